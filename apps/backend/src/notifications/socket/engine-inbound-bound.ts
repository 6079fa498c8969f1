import type { IncomingMessage } from 'node:http';

interface Packet {
  type: string;
  data?: unknown;
}

/** What this module uses of an engine.io connection. */
export interface EngineConnection {
  readyState: string;
  request: IncomingMessage;
  /** On the websocket transport, the ws socket: terminated so that what the client already sent is not parsed. */
  transport: { socket?: { terminate?: () => void } };
  on(event: 'packet', listener: (this: EngineConnection, packet: Packet) => void): void;
  off(event: 'packet', listener: (this: EngineConnection, packet: Packet) => void): void;
  close(discard?: boolean): void;
}

export interface InboundLimits {
  /** Namespace CONNECT packets allowed on one connection (WS_MAX_CONNECT_ATTEMPTS). */
  maxConnectAttempts: number;
  /** Packets of any kind per second (WS_INBOUND_FRAMES_PER_SEC). */
  framesPerSec: number;
  /** Payload bytes per second (WS_INBOUND_BYTES_PER_SEC). */
  bytesPerSec: number;
}

export type InboundBound = 'connect-attempts' | 'inbound-frames' | 'inbound-bytes';

function payloadBytes(packet: Packet): number {
  if (typeof packet.data === 'string') return packet.data.length;
  if (packet.data instanceof Uint8Array) return packet.data.byteLength;
  return 0;
}

/** What one connection has sent: its CONNECTs, and frames and bytes in the current one-second window. */
class InboundMeter {
  connects = 0;
  /** ms since METER_EPOCH: a small integer, so it is stored in the object (Date.now() would box a number). */
  windowStart = 0;
  frames = 0;
  bytes = 0;
}

const METER_EPOCH = Date.now() - 1000;

/**
 * What one engine.io connection may send, authenticated or not, checked per packet before
 * socket.io decodes it: pongs, unknown events and CONNECTs all count. Over a bound the
 * connection is closed at once (its queue discarded, a websocket's TCP connection dropped), so
 * the packet that crossed it and any that follow are never handled. A CONNECT is a socket.io packet of type 0 ("0/notifications,…").
 * Returns what to call for each new connection: one listener serves every connection (engine.io
 * calls it with the connection as `this`), which keeps only its meter (no closure per connection).
 */
export function boundInbound(limits: InboundLimits, onExceeded: (connection: EngineConnection, bound: InboundBound, seen: number) => void): (connection: EngineConnection) => void {
  const meters = new WeakMap<EngineConnection, InboundMeter>();
  const check = function (this: EngineConnection, packet: Packet): void {
    const meter = meters.get(this);
    if (!meter) return;
    const now = Date.now() - METER_EPOCH;
    if (now - meter.windowStart >= 1000) {
      meter.windowStart = now;
      meter.frames = 0;
      meter.bytes = 0;
    }
    meter.frames += 1;
    meter.bytes += payloadBytes(packet);
    let exceeded: [InboundBound, number] | undefined;
    if (packet.type === 'message' && typeof packet.data === 'string' && packet.data.startsWith('0') && ++meter.connects > limits.maxConnectAttempts) {
      exceeded = ['connect-attempts', meter.connects];
    } else if (meter.frames > limits.framesPerSec) exceeded = ['inbound-frames', meter.frames];
    else if (meter.bytes > limits.bytesPerSec) exceeded = ['inbound-bytes', meter.bytes];
    if (!exceeded || this.readyState !== 'open') return;
    this.off('packet', check);
    meters.delete(this);
    onExceeded(this, ...exceeded);
    const websocket = this.transport.socket;
    this.close(true);
    // close() starts a polite close handshake, during which ws keeps reading and parsing the flood.
    websocket?.terminate?.();
  };
  return (connection) => {
    meters.set(connection, new InboundMeter());
    connection.on('packet', check);
  };
}
