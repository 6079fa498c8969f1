import { Transform } from 'class-transformer';

/** Keys that would reach an object's prototype machinery; dropped, as they always were. */
export const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** How deep `data` may nest (MaxJsonSize refuses deeper). */
export const MAX_JSON_DEPTH = 8;

/**
 * A JSON field taken from the payload as written. class-transformer skips every key whose name
 * is a function on a plain object (`toString`, `valueOf`, `hasOwnProperty`…), so it silently lost
 * such keys from `data`; this copy keeps them and drops only the prototype keys.
 */
export function JsonData(): PropertyDecorator {
  return Transform(({ obj, key }) => copyJson((obj as Record<string, unknown>)[key]));
}

/**
 * The same copy, for input that does not come through the validation pipe (host code): the pipe
 * strips prototype keys before class-transformer runs, which otherwise fails on an own
 * `constructor` key ("is not a constructor") before JsonData is applied.
 */
export function copyJson(value: unknown, depth = 0): unknown {
  // Past the depth MaxJsonSize allows, left as it is for it to refuse: host code's data may refer to itself.
  if (value === null || typeof value !== 'object' || depth > MAX_JSON_DEPTH) return value;
  if (Array.isArray(value)) return value.map((item: unknown) => copyJson(item, depth + 1));
  const prototype = Object.getPrototypeOf(value) as unknown;
  // Host code may pass a Date or similar: left to serialise as it would.
  if (prototype !== Object.prototype && prototype !== null) return value;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    if (PROTOTYPE_KEYS.has(key)) continue;
    copy[key] = copyJson((value as Record<string, unknown>)[key], depth + 1);
  }
  return copy;
}
