import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  CLIENT_EVENTS,
  CONNECT_ERROR_CODES,
  EVENT_ERROR_CODES,
  NOTIFICATION_LIMITS,
  SERVER_EVENTS,
  SESSION_END_CODES,
  SSE_EVENTS,
} from '@notify-gateway/contracts';

const page = readFileSync(join(resolve(__dirname, '../../../..'), 'docs/EVENTS.md'), 'utf8');
const section = (title: string): string => {
  const start = page.indexOf(`## ${title}`);
  const end = page.indexOf('\n## ', start + 1);
  return page.slice(start, end === -1 ? undefined : end);
};

describe('docs/EVENTS.md agrees with packages/contracts', () => {
  it('documents every client event in its section, and no other', () => {
    const documented = new Set([...section('Client → server').matchAll(/^\| `((?:notification|auth):[a-z-]+)`/gm)].map((match) => match[1]));
    expect(documented).toEqual(new Set(Object.values(CLIENT_EVENTS)));
  });

  it('documents every server event in its section, and no other', () => {
    const table = section('Server → client');
    const documented = new Set([...table.matchAll(/^\| `(notification:[a-z-]+)`/gm)].map((match) => match[1]));
    expect(documented).toEqual(new Set(Object.values(SERVER_EVENTS)));
  });

  it('documents every SSE event the stream sends', () => {
    const table = section('Server-Sent Events');
    const documented = new Set([...table.matchAll(/^\| `(notification:[a-z-]+)`/gm)].map((match) => match[1]));
    for (const event of SSE_EVENTS) expect(documented).toContain(event);
    for (const event of documented) expect(Object.values(SERVER_EVENTS)).toContain(event);
  });

  it('documents every error code and session-end code, and no other', () => {
    const connectCodes = new Set([...section('Connecting').matchAll(/^\| `([A-Z_]+)`/gm)].map((match) => match[1]));
    expect(connectCodes).toEqual(new Set(CONNECT_ERROR_CODES));
    const eventCodes = new Set([...section('Client → server').matchAll(/^\| `([A-Z_]+)`/gm)].map((match) => match[1]));
    expect(eventCodes).toEqual(new Set(EVENT_ERROR_CODES));
    for (const code of SESSION_END_CODES) expect(section('Server → client')).toContain(`\`${code}\``);
  });

  it('states the field limits the validators enforce', () => {
    const create = section('Client → server');
    expect(create).toContain(`title: ${NOTIFICATION_LIMITS.titleMin}–${NOTIFICATION_LIMITS.titleMax}`);
    expect(create).toContain(`content: ${NOTIFICATION_LIMITS.contentMin}–${NOTIFICATION_LIMITS.contentMax}`);
    expect(create).toContain(`limit?: 1–${NOTIFICATION_LIMITS.pageMax}`);
    expect(create).toContain(`data?: object ≤ ${NOTIFICATION_LIMITS.dataMaxBytes / 1024} KiB`);
  });
});
