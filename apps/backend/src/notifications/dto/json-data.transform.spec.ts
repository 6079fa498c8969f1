import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { copyJson } from './json-data.transform';
import { NotificationContentDto } from './notification-content.dto';

/** As NotificationService does for host code (the validation pipe strips prototype keys itself first). */
const parse = (json: string): NotificationContentDto => {
  const input = JSON.parse(json) as { data?: unknown };
  return plainToInstance(NotificationContentDto, { ...input, data: copyJson(input.data) });
};

describe('NotificationContentDto.data (JsonData)', () => {
  it('keeps keys named like Object.prototype methods, at every depth', async () => {
    const data = { toString: 'a', valueOf: 1, hasOwnProperty: true, toLocaleString: null, nested: { isPrototypeOf: [1], __lookupGetter__: { valueOf: 2 } } };
    const dto = parse(JSON.stringify({ title: 't', content: 'c', data }));
    expect(dto.data).toEqual(data);
    expect(await validate(dto)).toEqual([]);
  });

  it('drops __proto__, constructor and prototype keys without touching any prototype', () => {
    const dto = parse('{"title":"t","content":"c","data":{"a":1,"__proto__":{"polluted":true},"b":{"constructor":{"prototype":{"polluted":true}},"prototype":2,"c":3}}}');
    expect(dto.data).toEqual({ a: 1, b: { c: 3 } });
    expect(Object.getPrototypeOf(dto.data)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('leaves an absent data absent, and a non-object for the validator to refuse', async () => {
    expect(parse('{"title":"t","content":"c"}').data).toBeUndefined();
    const errors = await validate(parse('{"title":"t","content":"c","data":"text"}'));
    expect(errors.map((error) => error.property)).toEqual(['data']);
  });
});
