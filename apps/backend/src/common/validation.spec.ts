import { IsString, registerDecorator } from 'class-validator';
import { ApiError } from './errors/api-error.js';
import { createValidationPipe, hasAsyncRule } from './validation.js';

/** An async rule that refuses everything: only the async path of class-validator runs it. */
function RefusedLater(): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'refusedLater',
      target: target.constructor,
      propertyName: propertyName.toString(),
      async: true,
      options: { message: '$property is refused later' },
      validator: { validate: () => Promise.resolve(false) },
    });
}

class WithAsyncRule {
  @IsString()
  @RefusedLater()
  name!: string;
}

describe('the validation pipe', () => {
  it('still runs an async rule, on the async path', async () => {
    expect(hasAsyncRule(WithAsyncRule)).toBe(true);
    const refusal = await createValidationPipe()
      .transform({ name: 'x' }, { type: 'body', metatype: WithAsyncRule })
      .catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ApiError);
    expect((refusal as ApiError).errors).toEqual([{ field: 'name', messages: ['name is refused later'] }]);
  });
});
