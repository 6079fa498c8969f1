/**
 * A UUID in the form PostgreSQL returns, which cached states, sessions, rooms and streams are
 * keyed by: the same id in upper case (IsUUID accepts it) would otherwise miss its user. Host code
 * may call from plain JavaScript, so anything but a string passes through for the caller's own
 * check to refuse.
 */
export function canonicalId(id: string): string {
  return typeof id === 'string' ? id.toLowerCase() : id;
}
