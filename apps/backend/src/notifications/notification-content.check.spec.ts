import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { ApiError } from '../common/errors/api-error.js';
import { toFieldErrors } from '../common/errors/validation-errors.js';
import { copyJson } from './dto/json-data.transform.js';
import { NotificationContentDto } from './dto/notification-content.dto.js';
import { checkedContent, type ContentInput } from './notification-content.check.js';

/** What the check did before it filled the DTO itself: class-transformer, then the same validation. */
function throughClassTransformer(input: ContentInput, prefix: string): NotificationContentDto {
  const dto = plainToInstance(NotificationContentDto, { title: input.title, content: input.content, priority: input.priority, data: copyJson(input.data) });
  const errors = validateSync(dto, { whitelist: true, forbidUnknownValues: true });
  if (errors.length > 0) throw new ApiError(400, 'VALIDATION_FAILED', undefined, toFieldErrors(errors, prefix));
  return dto;
}

function outcome(check: (input: ContentInput, prefix: string) => NotificationContentDto, input: unknown): unknown {
  try {
    const dto = check(input as ContentInput, 'items.3');
    return { ok: true, dto: { ...dto }, instance: dto instanceof NotificationContentDto };
  } catch (error) {
    if (error instanceof ApiError) return { ok: false, status: error.getStatus(), code: error.code, errors: error.errors };
    return { threw: error instanceof Error ? error.constructor.name : typeof error };
  }
}

const inputs: Record<string, unknown> = {
  plain: { title: 'Deploy', content: 'Done' },
  'every field': { title: 'T', content: 'line one\nline two', priority: 'high', data: { a: 1, nested: { b: [1, 'x', null] } } },
  'data with prototype keys and function names': JSON.parse('{"title":"T","content":"C","data":{"__proto__":{"x":1},"constructor":1,"toString":"kept","valueOf":2}}'),
  'data of a class': { title: 'T', content: 'C', data: new Date(0) },
  'data an array': { title: 'T', content: 'C', data: [1, 2] },
  'data a string': { title: 'T', content: 'C', data: 'x' },
  'data null': { title: 'T', content: 'C', data: null },
  'data too large': { title: 'T', content: 'C', data: { blob: 'x'.repeat(20_000) } },
  'title missing': { content: 'C' },
  'title empty': { title: '', content: 'C' },
  'title too long': { title: 'x'.repeat(201), content: 'C' },
  'title an object': { title: { toString: 'x' }, content: 'C' },
  'title an array': { title: ['a'], content: 'C' },
  'title a number': { title: 5, content: 'C' },
  'title with a line break': { title: 'a\nb', content: 'C' },
  'content with a NUL': { title: 'T', content: 'a\u0000b' },
  'content with a C1 control': { title: 'T', content: 'a\u0085b' },
  'surrogate pairs counted as one character': { title: '😀'.repeat(200), content: 'C' },
  'priority unknown': { title: 'T', content: 'C', priority: 'urgent' },
  'priority null': { title: 'T', content: 'C', priority: null },
  'extra fields ignored': { title: 'T', content: 'C', scope: 'GLOBAL', isAdmin: true },
};

describe('checkedContent', () => {
  it.each(Object.entries(inputs))('agrees with the class-transformer path: %s', (_name, input) => {
    expect(outcome(checkedContent, input)).toEqual(outcome(throughClassTransformer, input));
  });

  it('accepts valid content and refuses invalid content (the comparison is not vacuous)', () => {
    expect(outcome(checkedContent, inputs.plain)).toMatchObject({ ok: true, instance: true });
    expect(outcome(checkedContent, inputs['title an object'])).toMatchObject({ ok: false, status: 400, code: 'VALIDATION_FAILED', errors: [{ field: 'items.3.title' }] });
    expect(outcome(checkedContent, inputs['data too large'])).toMatchObject({ ok: false, errors: [{ field: 'items.3.data' }] });
  });
});
