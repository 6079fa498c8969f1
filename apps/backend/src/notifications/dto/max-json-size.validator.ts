import { registerDecorator, type ValidationOptions } from 'class-validator';
import { MAX_JSON_DEPTH as MAX_DEPTH, PROTOTYPE_KEYS } from './json-data.transform.js';

/** Bounds an object's serialised size and nesting depth, and refuses prototype-polluting keys. */
export function MaxJsonSize(maxBytes: number, options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'maxJsonSize',
      target: target.constructor,
      propertyName: propertyName.toString(),
      options: { message: `$property must serialise to at most ${maxBytes} bytes, ${MAX_DEPTH} levels deep`, ...options },
      validator: {
        validate(value: unknown): boolean {
          if (value === undefined) return true;
          if (!withinDepth(value, 0)) return false;
          try {
            return Buffer.byteLength(JSON.stringify(value)) <= maxBytes;
          } catch {
            return false;
          }
        },
      },
    });
  };
}

function withinDepth(value: unknown, depth: number): boolean {
  if (value === null || typeof value !== 'object') return true;
  if (depth >= MAX_DEPTH) return false;
  for (const key of Object.keys(value)) {
    if (PROTOTYPE_KEYS.has(key)) return false;
    if (!withinDepth((value as Record<string, unknown>)[key], depth + 1)) return false;
  }
  return true;
}
