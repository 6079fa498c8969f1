/**
 * True when an error means the database could not be reached (as opposed to a bad query),
 * so the client is told to retry (503) rather than that something broke (500).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const { code, message, name } = current as { code?: unknown; message?: unknown; name?: unknown };
    if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGES.test(message)) return true;
    if (name === 'PrismaClientInitializationError') return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

// 53300 / P2037: the server is at its connection limit (a reconnect storm, many pools): retry.
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'P1001', 'P1002', 'P1017', 'P2024', 'P2037', '57P01', '57P03', '08006', '08001', '08003', '53300']);
const UNAVAILABLE_MESSAGES = /ECONNREFUSED|ECONNRESET|Connection terminated|connection timeout|timeout exceeded when trying to connect|Can't reach database|DatabaseNotReachable|the database system is (shutting down|starting up)/i;
