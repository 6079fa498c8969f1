import { STREAM_LIMITS, type StreamPosition } from '@notify-gateway/contracts';
import type { AuthenticatedUser } from '../../auth/authenticated-user.js';
import { GLOBAL_ROOM, isTenantAdmin, tenantRoom, userRoom } from '../notification-audience.js';

/**
 * Positions name where a reader stands in each stream it reads (docs/DELIVERY.md). The encoded
 * form is the same string for `?position=`, SSE ids / Last-Event-ID and sync's `position`:
 *
 *   u.<epoch>.<offset>_t.<epoch>.<offset>_g.<epoch>.<offset>
 *
 * `u`, `t`, `g` are the reader's own user, tenant and the global stream, each at most once, so a
 * position never repeats an id the server already knows; epochs are [A-Za-z0-9]{8,16}, offsets
 * decimal without leading zeros and at most 2^63 − 1. At most 3 entries, 116 characters.
 */
export type Viewer = Pick<AuthenticatedUser, 'userId' | 'tenantId' | 'role'>;
export type StreamKind = 'u' | 't' | 'g';

export interface Mark {
  epoch: string;
  offset: bigint;
}
/** Stream name → the last offset the reader holds there. */
export type Positions = Map<string, Mark>;

export const MAX_OFFSET = 9223372036854775807n;
const ENTRY = /^([utg])\.([A-Za-z0-9]{8,16})\.(0|[1-9][0-9]{0,18})$/;
const EPOCH = new RegExp(STREAM_LIMITS.epochPattern);
const OFFSET = /^(0|[1-9][0-9]{0,18})$/;
const STREAM_NAME = /^(user:[0-9a-f-]{36}|tenant:[0-9a-f-]{36}|global)$/;
const ORDER: StreamKind[] = ['u', 't', 'g'];

/** The streams `viewer` reads, by kind, in a fixed order (also the lock order is by name). */
export function streamsOf(viewer: Viewer): Map<StreamKind, string> {
  const streams = new Map<StreamKind, string>([['u', userRoom(viewer.userId)]]);
  if (isTenantAdmin(viewer.role)) streams.set('t', tenantRoom(viewer.tenantId));
  if (viewer.role === 'SUPER_ADMIN') streams.set('g', GLOBAL_ROOM);
  return streams;
}

export class PositionSyntaxError extends Error {}

/** Strict: any deviation from the grammar above is refused (never guessed at). */
export function decodePosition(encoded: string, viewer: Viewer): Positions {
  if (encoded.length === 0 || encoded.length > STREAM_LIMITS.positionMaxLength) throw new PositionSyntaxError('position has the wrong length');
  const streams = streamsOf(viewer);
  const seen = new Set<string>();
  const positions: Positions = new Map();
  for (const entry of encoded.split('_')) {
    const match = ENTRY.exec(entry);
    if (!match) throw new PositionSyntaxError('position is malformed');
    const [, kind, epoch, digits] = match as unknown as [string, StreamKind, string, string];
    if (seen.has(kind)) throw new PositionSyntaxError('position names a stream twice');
    seen.add(kind);
    const offset = BigInt(digits);
    if (offset > MAX_OFFSET) throw new PositionSyntaxError('position offset is out of range');
    // A stream the reader no longer reads (e.g. after a role change) is not an error: ignored.
    const stream = streams.get(kind);
    if (stream) positions.set(stream, { epoch, offset });
  }
  if (seen.size > ORDER.length) throw new PositionSyntaxError('position names too many streams');
  return positions;
}

/** The structured form sync also accepts: full stream names, the same rules. */
export function positionsFromList(list: StreamPosition[], viewer: Viewer): Positions {
  const readable = new Set(streamsOf(viewer).values());
  const positions: Positions = new Map();
  for (const item of list) {
    if (!STREAM_NAME.test(item.stream) || !EPOCH.test(item.epoch) || !OFFSET.test(item.offset)) throw new PositionSyntaxError('position is malformed');
    if (positions.has(item.stream)) throw new PositionSyntaxError('position names a stream twice');
    const offset = BigInt(item.offset);
    if (offset > MAX_OFFSET) throw new PositionSyntaxError('position offset is out of range');
    if (readable.has(item.stream)) positions.set(item.stream, { epoch: item.epoch, offset });
  }
  return positions;
}

/** Encodes the streams of `positions` that `viewer` reads, in u, t, g order. */
export function encodePosition(positions: Positions, viewer: Viewer): string {
  return encodePositionIn(positions, streamsOf(viewer));
}

/** encodePosition with the viewer's streams (streamsOf) already known: for callers encoding per event. */
export function encodePositionIn(positions: Positions, streams: ReadonlyMap<StreamKind, string>): string {
  const entries: string[] = [];
  for (const [kind, stream] of streams) {
    const mark = positions.get(stream);
    if (mark) entries.push(`${kind}.${mark.epoch}.${mark.offset.toString()}`);
  }
  return entries.join('_');
}

export function toList(positions: Positions): StreamPosition[] {
  return [...positions].map(([stream, mark]) => ({ stream, epoch: mark.epoch, offset: mark.offset.toString() }));
}
