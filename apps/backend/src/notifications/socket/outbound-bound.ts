interface Packet {
  data?: unknown;
}

/** What this module reads of an engine.io connection: its queue and the websocket's buffer. */
interface EngineConnection {
  readyState: string;
  writeBuffer: Packet[];
  transport: { socket?: { bufferedAmount?: number } };
  on(event: 'packetCreate', listener: (packet: Packet) => void): void;
  off(event: 'packetCreate', listener: (packet: Packet) => void): void;
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
 */
export function boundOutboundQueue(connection: EngineConnection, maxBytes: number, onExceeded: (queued: number) => void): void {
  // Runs before the packet joins the queue: counting it too keeps the queue within the bound.
  const check = (packet: Packet): void => {
    // The usual case on the hot path: nothing waiting, so one packet alone (bounded by the
    // payload limits) cannot exceed the bound.
    if (connection.writeBuffer.length === 0 && !connection.transport.socket?.bufferedAmount) return;
    if (connection.readyState !== 'open') return;
    const queued = queuedBytes(connection) + packetBytes(packet);
    if (queued <= maxBytes) return;
    connection.off('packetCreate', check);
    onExceeded(queued);
    connection.close(true);
  };
  connection.on('packetCreate', check);
}
