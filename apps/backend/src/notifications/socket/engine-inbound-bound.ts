interface Packet {
  type: string;
  data?: unknown;
}

/** What this module uses of an engine.io connection. */
interface EngineConnection {
  readyState: string;
  /** On the websocket transport, the ws socket: terminated so that what the client already sent is not parsed. */
  transport: { socket?: { terminate?: () => void } };
  on(event: 'packet', listener: (packet: Packet) => void): void;
  off(event: 'packet', listener: (packet: Packet) => void): void;
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

/**
 * What one engine.io connection may send, authenticated or not, checked per packet before
 * socket.io decodes it: pongs, unknown events and CONNECTs all count. Over a bound the
 * connection is closed at once (its queue discarded, a websocket's TCP connection dropped), so
 * the packet that crossed it and any that follow are never handled. A CONNECT is a socket.io packet of type 0 ("0/notifications,…").
 */
export function boundInbound(connection: EngineConnection, limits: InboundLimits, onExceeded: (bound: InboundBound, seen: number) => void): void {
  let connects = 0;
  let windowStart = 0;
  let frames = 0;
  let bytes = 0;
  const check = (packet: Packet): void => {
    const now = Date.now();
    if (now - windowStart >= 1000) {
      windowStart = now;
      frames = 0;
      bytes = 0;
    }
    frames += 1;
    bytes += payloadBytes(packet);
    let exceeded: [InboundBound, number] | undefined;
    if (packet.type === 'message' && typeof packet.data === 'string' && packet.data.startsWith('0') && ++connects > limits.maxConnectAttempts) {
      exceeded = ['connect-attempts', connects];
    } else if (frames > limits.framesPerSec) exceeded = ['inbound-frames', frames];
    else if (bytes > limits.bytesPerSec) exceeded = ['inbound-bytes', bytes];
    if (!exceeded || connection.readyState !== 'open') return;
    connection.off('packet', check);
    onExceeded(...exceeded);
    const websocket = connection.transport.socket;
    connection.close(true);
    // close() starts a polite close handshake, during which ws keeps reading and parsing the flood.
    websocket?.terminate?.();
  };
  connection.on('packet', check);
}
