import { ALLOWED_ORIGIN } from './test-app';

export interface HttpResult<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
  text: string;
}

/** A real HTTP call (Node's fetch). JSON in, JSON (or text) out. */
export async function http<T = Record<string, unknown>>(
  url: string,
  init: { method?: string; token?: string; body?: unknown; headers?: Record<string, string>; origin?: string | null } = {},
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.origin !== null) headers.origin = init.origin ?? ALLOWED_ORIGIN;
  let body: string | undefined;
  if (init.body !== undefined) {
    body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(url, { method: init.method ?? (body ? 'POST' : 'GET'), headers, body });
  const text = await response.text();
  return { status: response.status, body: parseBody(text) as T, headers: response.headers, text };
}

/** A response body: its JSON when it is JSON, else the text itself. */
export function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** POSTs a notification as the given token's user; returns status and body. */
export async function publish(
  baseUrl: string,
  token: string,
  body: { title: string; content: string; scope?: string; userId?: string; tenantId?: string; priority?: string; data?: unknown },
): Promise<HttpResult<Record<string, unknown> & { id?: string; cursor?: string; code?: string }>> {
  return http(`${baseUrl}/notifications`, { token, body });
}

let counter = 0;
/** A title no other test uses, to recognise one notification among many. */
export function uniqueTitle(label: string): string {
  counter += 1;
  return `${label} #${counter} ${process.hrtime.bigint().toString(36)}`;
}
