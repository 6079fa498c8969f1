interface Packet {
  data?: unknown;
}

/** What this module reads of an engine.io connection: its queue and the websocket's buffer. */
export interface EngineConnection {
  readyState: string;
  writeBuffer: Packet[];
  transport: { socket?: { bufferedAmount?: number } };
  on(event: 'packetCreate', listener: (this: EngineConnection, packet: Packet) => void): void;
  off(event: 'packetCreate', listener: (this: EngineConnection, packet: Packet) => void): void;
  close(discard?: boolean): void;
}

/** Bytes queued for the client and not yet taken by it: engine.io's queue plus the websocket's. */
function queuedBytes(connection: EngineConnection): number {
  let bytes = connection.transport.socket?.bufferedAmount ?? 0;
  for (const packet of connection.writeBuffer) bytes += packetBytes(packet);
  return bytes;
}

function packetBytes(packet: Packet): number {
  if (typeof packet.data === 'string') return Buffer.byteLength(packet.data);
  if (packet.data instanceof Uint8Array) return packet.data.byteLength;
  return 0;
}

/**
 * A client that stops reading must not grow the server's memory without bound: engine.io queues
 * for it until the heartbeat gives up (up to 45 s). Checked as each packet is queued; past
 * `maxBytes` the connection is closed, its queue discarded, and the client catches up by sync.
 * Returns the one listener every connection shares (engine.io calls it with the connection as
 * `this`): attach it with `connection.on('packetCreate', listener)`; nothing is kept per connection.
 */
export function outboundQueueBound(maxBytes: number, onExceeded: (connection: EngineConnection, queued: number) => void): (this: EngineConnection, packet: Packet) => void {
  // Runs before the packet joins the queue: counting it too keeps the queue within the bound.
  const check = function (this: EngineConnection, packet: Packet): void {
    // The usual case on the hot path: nothing waiting, so one packet alone (bounded by the
    // payload limits) cannot exceed the bound.
    if (this.writeBuffer.length === 0 && !this.transport.socket?.bufferedAmount) return;
    if (this.readyState !== 'open') return;
    const queued = queuedBytes(this) + packetBytes(packet);
    if (queued <= maxBytes) return;
    this.off('packetCreate', check);
    onExceeded(this, queued);
    this.close(true);
  };
  return check;
}
