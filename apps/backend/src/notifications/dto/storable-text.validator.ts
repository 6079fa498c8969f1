import { registerDecorator, type ValidationOptions } from 'class-validator';
import { MAX_JSON_DEPTH } from './json-data.transform.js';

/** An unpaired surrogate: a text column stores U+FFFD instead, not what the publisher was answered. */
const UNPAIRED = /\p{Cs}/u;
/** U+0000 and unpaired surrogates: JSON escapes them, jsonb refuses them (and with them the group statement). */
const NOT_IN_JSONB = /[\u0000\p{Cs}]/u;

/** Refuses a string with an unpaired surrogate (anything else is left to the other rules). */
export function StorableText(options?: ValidationOptions): PropertyDecorator {
  return rule('storableText', '$property must not contain unpaired surrogates', (value) => typeof value !== 'string' || !UNPAIRED.test(value), options);
}

/** Refuses an object with a key or string that jsonb cannot hold. */
export function StorableJson(options?: ValidationOptions): PropertyDecorator {
  return rule('storableJson', '$property must not contain U+0000 or unpaired surrogates', (value) => storableJson(value, 0), options);
}

function rule(name: string, message: string, validate: (value: unknown) => boolean, options: ValidationOptions | undefined): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({ name, target: target.constructor, propertyName: propertyName.toString(), options: { message, ...options }, validator: { validate } });
  };
}

/** Past MAX_JSON_DEPTH (or round a cycle) MaxJsonSize refuses the value: not walked further here. */
function storableJson(value: unknown, depth: number): boolean {
  if (typeof value === 'string') return !NOT_IN_JSONB.test(value);
  if (value === null || typeof value !== 'object' || depth > MAX_JSON_DEPTH) return true;
  for (const key of Object.keys(value)) {
    if (NOT_IN_JSONB.test(key) || !storableJson((value as Record<string, unknown>)[key], depth + 1)) return false;
  }
  return true;
}
