import type { NotificationView } from '@notify-gateway/contracts';

export interface SyncPage {
  notifications: NotificationView[];
  cursor: string | null;
  hasMore: boolean;
}

export interface CatchUpResult {
  /** Notifications handed to `receive`, duplicates included. */
  received: number;
  /** False when `shouldContinue` stopped it midway (e.g. the connection changed). */
  complete: boolean;
}

/**
 * Pages through everything after `after`, oldest first, while the server says more is waiting.
 * A page that does not move the cursor forward ends the loop rather than asking forever.
 */
export async function catchUp(
  after: string | undefined,
  fetchPage: (after: string | undefined) => Promise<SyncPage>,
  receive: (notification: NotificationView) => void,
  shouldContinue: () => boolean = () => true,
): Promise<CatchUpResult> {
  let cursor = after;
  let received = 0;
  for (;;) {
    if (!shouldContinue()) return { received, complete: false };
    const page = await fetchPage(cursor);
    if (!shouldContinue()) return { received, complete: false };
    for (const notification of page.notifications) receive(notification);
    received += page.notifications.length;
    const next = page.cursor ?? cursor;
    if (!page.hasMore || next === cursor) return { received, complete: true };
    cursor = next;
  }
}
