// Server-Sent Events with the gateway's single-use tickets. EventSource's own retry would present
// the spent ticket again, so on any error: close, get a new ticket, reopen with the last event id
// (the position after the last notification) and let the server replay what was missed.

const MIN_DELAY_MS = 250;
const MAX_DELAY_MS = 10000;

export function openSseFeed({ api, lastEventId, onNotification, onRead, onState, onError, onReset = () => undefined }) {
  let source = null;
  let timer = null;
  let stopped = false;
  // Opaque: the server orders each stream and fills gaps, so the last id is where we stand.
  let last = lastEventId || null;
  let delay = MIN_DELAY_MS;

  async function open() {
    if (stopped) return;
    let ticket;
    try {
      ticket = (await api.streamTicket()).ticket;
    } catch (error) {
      if (error.status === 401) return stop('session expired: log in again');
      onError(`stream ticket: ${error.message}`);
      return retry();
    }
    if (stopped) return;
    const url = new URL(`${api.baseUrl}/notifications/stream`);
    url.searchParams.set('ticket', ticket);
    if (last !== null) url.searchParams.set('lastEventId', last);
    source = new EventSource(url);
    source.onopen = () => {
      delay = MIN_DELAY_MS;
      onState('live');
    };
    source.addEventListener('notification:new', (event) => {
      if (event.lastEventId) last = event.lastEventId;
      onNotification(JSON.parse(event.data));
    });
    source.addEventListener('notification:reset', (event) => {
      if (event.lastEventId) last = event.lastEventId;
      onReset(JSON.parse(event.data).reset);
    });
    source.addEventListener('notification:read', (event) => onRead(JSON.parse(event.data)));
    // The stream ends after this event. A cut-off user or a revoked token must not come back; otherwise reconnect
    // (after TOKEN_EXPIRED the ticket request answers 401 and the feed stops).
    source.addEventListener('notification:session-expiring', (event) => {
      const { code } = JSON.parse(event.data);
      if (code === 'USER_DISCONNECTED' || code === 'TOKEN_REVOKED') stop(code);
    });
    source.onerror = () => {
      source.close();
      onState('reconnecting');
      retry();
    };
  }

  function retry() {
    clearTimeout(timer);
    timer = setTimeout(open, delay);
    delay = Math.min(delay * 2, MAX_DELAY_MS);
  }

  function stop(reason) {
    stopped = true;
    clearTimeout(timer);
    if (source) source.close();
    onState('stopped', reason);
  }

  onState('connecting');
  open();
  return { close: () => stop('closed') };
}
