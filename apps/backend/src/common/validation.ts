import { ValidationPipe, type ArgumentMetadata } from '@nestjs/common';
import { getMetadataStorage, validateSync, type ValidationError, type ValidatorOptions } from 'class-validator';
import { ApiError } from './errors/api-error.js';
import { toFieldErrors } from './errors/validation-errors.js';

/** Deeper than any valid payload; deeper input is refused before anything recurses into it. */
export const MAX_PAYLOAD_DEPTH = 64;

/** Payload classes on which an own `__proto__` key is refused (see RefuseProtoKey). */
const REFUSING_PROTO_KEY = new WeakSet<object>();

/**
 * An own `__proto__` key (which JSON.parse creates) never reaches class-validator: class-transformer
 * drops it, so whitelisting cannot name it. On payloads marked with this it is refused as the
 * unknown field it is, the way every other unknown field is.
 */
export function RefuseProtoKey(): ClassDecorator {
  return (target) => {
    REFUSING_PROTO_KEY.add(target);
  };
}

function refusesProtoKey(metatype: unknown): boolean {
  for (let type = metatype; typeof type === 'function'; type = Object.getPrototypeOf(type)) if (REFUSING_PROTO_KEY.has(type)) return true;
  return false;
}

/**
 * Nest's ValidationPipe (and class-transformer after it) walk a payload recursively: a body of a
 * few thousand nested arrays overflows the stack and would surface as a 500. The depth is checked
 * first, without recursion, and such input gets the same VALIDATION_FAILED as any other bad input.
 */
class BoundedValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (this.toValidate(metadata) && deeperThan(value, MAX_PAYLOAD_DEPTH)) {
      throw new ApiError(400, 'VALIDATION_FAILED', undefined, [
        { field: '(payload)', messages: [`payload must not nest deeper than ${MAX_PAYLOAD_DEPTH} levels`] },
      ]);
    }
    if (this.toValidate(metadata) && refusesProtoKey(metadata.metatype) && isObject(value) && Object.hasOwn(value, '__proto__')) {
      throw new ApiError(400, 'VALIDATION_FAILED', undefined, [{ field: '__proto__', messages: ['property __proto__ should not exist'] }]);
    }
    return super.transform(value, metadata);
  }

  /**
   * The same rules and errors, checked synchronously: the async path costs a promise chain per
   * rule (a share of every publish's CPU). validateSync skips async rules, so a class that has
   * one keeps the async path.
   */
  protected override validate(object: object, validatorOptions?: ValidatorOptions): Promise<ValidationError[]> | ValidationError[] {
    if (hasAsyncRule(object.constructor)) return super.validate(object, validatorOptions);
    return validateSync(object, validatorOptions);
  }
}

const ASYNC_RULES = new WeakMap<Function, boolean>();

/**
 * Whether a class's own rules include an async one. A nested class's rules are not looked at, and
 * validateSync would skip an async one there: dto/payload-validation.spec.ts lists every payload
 * class, nested ones included.
 */
export function hasAsyncRule(target: Function): boolean {
  let known = ASYNC_RULES.get(target);
  if (known === undefined) {
    const storage = getMetadataStorage();
    known = storage
      .getTargetValidationMetadatas(target, '', true, false)
      .some((rule) => storage.getTargetValidatorConstraints(rule.constraintCls).some((constraint) => constraint.async));
    ASYNC_RULES.set(target, known);
  }
  return known;
}

function isObject(value: unknown): value is object {
  return value !== null && typeof value === 'object';
}

function deeperThan(root: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop() as [unknown, number];
    if (value === null || typeof value !== 'object') continue;
    if (depth >= limit) return true;
    for (const child of Object.values(value)) stack.push([child, depth + 1]);
  }
  return false;
}

/** The one validation policy, for HTTP bodies and socket payloads alike. */
export function createValidationPipe(): ValidationPipe {
  return new BoundedValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    stopAtFirstError: false,
    exceptionFactory: (errors) => new ApiError(400, 'VALIDATION_FAILED', undefined, toFieldErrors(errors)),
  });
}
