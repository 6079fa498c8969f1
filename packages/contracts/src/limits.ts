/** Field limits shared by the server's validators and the clients' forms. */
export const NOTIFICATION_LIMITS = {
  titleMin: 1,
  titleMax: 200,
  contentMin: 1,
  contentMax: 1000,
  /** Serialised size of the optional `data` object, in bytes. */
  dataMaxBytes: 4096,
  pageMax: 100,
  pageDefault: 50,
} as const;

/** The namespace the gateway serves. */
export const NOTIFICATIONS_NAMESPACE = '/notifications';

export const PRIORITIES = ['low', 'medium', 'high'] as const;
export type NotificationPriority = (typeof PRIORITIES)[number];

export const SCOPES = ['USER', 'TENANT', 'GLOBAL'] as const;
export type NotificationScope = (typeof SCOPES)[number];

export const ROLES = ['USER', 'ADMIN', 'SUPER_ADMIN'] as const;
export type Role = (typeof ROLES)[number];
