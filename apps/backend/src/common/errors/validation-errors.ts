import type { ValidationError } from 'class-validator';
import type { FieldError } from '@notify-gateway/contracts';

/** Flattens class-validator errors to `{field, messages}` without echoing the rejected values. */
export function toFieldErrors(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const property = error.property ?? '(payload)';
    const field = parent ? `${parent}.${property}` : property;
    const own = error.constraints ? [{ field, messages: Object.values(error.constraints) }] : [];
    return [...own, ...toFieldErrors(error.children ?? [], field)];
  });
}
