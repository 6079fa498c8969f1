/** Security event names, as operators search for them (docs/OPERATIONS.md). */
export const SECURITY_EVENTS = [
  'WEBSOCKET_CONNECT',
  'AUTHENTICATION_SUCCESS',
  'AUTHENTICATION_FAILED',
  'AUTHENTICATION_TIMEOUT',
  'ORIGIN_REJECTED',
  'ROOM_JOIN',
  'ROOM_ASSIGNMENT_FAILED',
  'UNAUTHORIZED_ACCESS_ATTEMPT',
  'VALIDATION_FAILED',
  'RATE_LIMIT_EXCEEDED',
  'CONNECTION_LIMIT_EXCEEDED',
  'TOKEN_EXPIRED',
  'SECURITY_VIOLATION',
  'HIGH_CONNECTION_USAGE',
  'HIGH_CONNECTION_FAILURE_RATE',
  'CONNECTION_METRICS',
  // Token lifecycle.
  'TOKEN_REVOKED',
  'TOKEN_REFRESHED',
] as const;
export type SecurityEvent = (typeof SECURITY_EVENTS)[number];

export interface SecurityEventFields {
  clientId?: string;
  userId?: string;
  tenantId?: string;
  ip?: string;
  origin?: string;
  reason?: string;
  transport?: 'websocket' | 'polling' | 'sse' | 'http' | 'login';
  room?: string;
  /** WEBSOCKET_CONNECT: every room the socket joined at the handshake. */
  rooms?: readonly string[];
  [detail: string]: unknown;
}
