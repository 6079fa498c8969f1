/** What this module reads of an engine.io connection: its queue and the websocket's buffer. */
interface EngineConnection {
  readyState: string;
  writeBuffer: { data?: unknown }[];
  transport: { socket?: { bufferedAmount?: number } };
  on(event: 'packetCreate', listener: () => void): void;
  off(event: 'packetCreate', listener: () => void): void;
  close(discard?: boolean): void;
}

/** Bytes queued for the client and not yet taken by it: engine.io's queue plus the websocket's. */
function queuedBytes(connection: EngineConnection): number {
  let bytes = connection.transport.socket?.bufferedAmount ?? 0;
  for (const packet of connection.writeBuffer) {
    if (typeof packet.data === 'string') bytes += packet.data.length;
    else if (packet.data instanceof Uint8Array) bytes += packet.data.byteLength;
  }
  return bytes;
}

/**
 * A client that stops reading must not grow the server's memory without bound: engine.io queues
 * for it until the heartbeat gives up (up to 45 s). Checked as each packet is queued; past
 * `maxBytes` the connection is closed, its queue discarded, and the client catches up by sync.
 */
export function boundOutboundQueue(connection: EngineConnection, maxBytes: number, onExceeded: (queued: number) => void): void {
  const check = (): void => {
    if (connection.readyState !== 'open') return;
    const queued = queuedBytes(connection);
    if (queued <= maxBytes) return;
    connection.off('packetCreate', check);
    onExceeded(queued);
    connection.close(true);
  };
  connection.on('packetCreate', check);
}
