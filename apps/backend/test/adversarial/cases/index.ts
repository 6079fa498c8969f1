import type { Category, HostileCase } from '../harness';
import { abandonedHandshakeCases } from './abandoned-handshakes';
import { abuseHttpCases } from './abuse-http';
import { httpCases } from './http';
import { moduleCases } from './module';
import { originCases } from './origins';
import { payloadCases } from './payloads';
import { protocolCases } from './protocol';
import { readStateCases } from './read-state';
import { socketCases } from './sockets';
import { tokenLifecycleCases } from './token-lifecycle';
import { storeCases } from './store';
import { streamCases } from './streams';
import { tokenCases } from './tokens';
import { unknownKeyCases } from './unknown-keys';
import { userStateCases } from './user-state';

/** Every hostile case, in the order a pass runs them. */
export function allCases(): HostileCase[] {
  return [...tokenCases, ...tokenLifecycleCases, ...originCases, ...protocolCases, ...payloadCases, ...httpCases, ...abuseHttpCases, ...userStateCases, ...socketCases, ...abandonedHandshakeCases, ...moduleCases, ...streamCases, ...storeCases, ...readStateCases, ...unknownKeyCases];
}

export function countByCategory(cases: HostileCase[]): Record<Category, number> {
  const counts: Record<Category, number> = { tokens: 0, origins: 0, protocol: 0, payloads: 0, http: 0 };
  for (const hostile of cases) counts[hostile.category] += 1;
  return counts;
}
