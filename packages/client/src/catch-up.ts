import type { NotificationView, StreamPosition, StreamReset, SyncPayload } from '@notify-gateway/contracts';

export interface SyncPage {
  notifications: NotificationView[];
  hasMore: boolean;
  /** The encoded position after this page. */
  position: string;
  streams: StreamPosition[];
  reset: StreamReset[];
}

export interface CatchUpResult {
  /** Notifications the server returned, duplicates included. */
  received: number;
  /** False when `shouldContinue` stopped it midway (e.g. the connection changed). */
  complete: boolean;
}

/**
 * Pages from `first` while the server says more is waiting, each next page from the position the
 * previous one ended at. A page that does not move the position ends the loop rather than asking
 * forever.
 */
export async function catchUp(
  first: SyncPayload,
  fetchPage: (request: SyncPayload) => Promise<SyncPage>,
  apply: (page: SyncPage) => void | Promise<void>,
  shouldContinue: () => boolean = () => true,
): Promise<CatchUpResult> {
  let request = first;
  let previous: string | undefined;
  let received = 0;
  for (;;) {
    if (!shouldContinue()) return { received, complete: false };
    const page = await fetchPage(request);
    if (!shouldContinue()) return { received, complete: false };
    await apply(page);
    received += page.notifications.length;
    if (!page.hasMore || page.position === previous || page.position === '') return { received, complete: true };
    previous = page.position;
    request = { position: page.position };
  }
}
