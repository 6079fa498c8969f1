// The demo: log in, list, live feed (the client bundle, or SSE), unread count, mark-read, admin sender.
import { GatewayApi, claimsOf } from './api.js';
import { openSseFeed } from './sse-feed.js';
import { View } from './view.js';

const gatewayUrl = document.querySelector('meta[name="gateway-url"]').content || location.origin;
const api = new GatewayApi(gatewayUrl);
const view = new View(document);
let session = null;

const loginForm = document.getElementById('login-form');
for (const button of loginForm.querySelectorAll('[data-email]')) {
  button.addEventListener('click', () => {
    loginForm.elements.email.value = button.dataset.email;
  });
}

loginForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const { email, password, transport } = loginForm.elements;
  try {
    await start(email.value, password.value, transport.value);
  } catch (error) {
    stop(error);
  }
});

document.getElementById('logout').addEventListener('click', () => stop());
document.getElementById('mark-all').addEventListener('click', () => act(() => session.feed.markAllRead()));

const sendForm = document.getElementById('send-form');
sendForm.elements.scope.addEventListener('change', () => {
  sendForm.querySelector('.for-user').hidden = sendForm.elements.scope.value !== 'USER';
});
sendForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const { scope, recipient, title, content, priority } = sendForm.elements;
  const body = { scope: scope.value, title: title.value, content: content.value, priority: priority.value };
  const result = sendForm.querySelector('[data-testid="send-result"]');
  result.hidden = false;
  try {
    // A recipient is named by email; the gateway's API takes the user's id.
    if (scope.value === 'USER') body.userId = recipient.value.trim() ? (await api.recipient(recipient.value.trim())).id : session.claims.sub;
    const sent = await api.send(body);
    result.textContent = `Sent ${sent.scope} notification #${sent.cursor}`;
    title.value = '';
    content.value = '';
  } catch (error) {
    result.textContent = `Refused: ${error.code} ${error.message}`;
  }
});

async function start(email, password, transport) {
  const login = await api.login(email, password);
  api.token = login.accessToken;
  const claims = claimsOf(login.accessToken);
  session = { claims, transport, feed: null };
  view.showSession(email, claims.role);
  view.log(`logged in as ${email} (${claims.role}), token valid ${login.expiresIn} s`);
  const page = await api.list(20);
  for (const notification of page.items) view.addNotification(notification, markRead, 'bottom');
  await refreshUnread();
  // The latest page's position: each feed goes on from exactly where that page stands.
  session.feed = transport === 'sse' ? sseFeed(page.position) : socketFeed(transport, page.position);
}

/** Logged out, or refused (the status then says by what, instead of a bare "offline"). */
function stop(error) {
  if (session && session.feed) session.feed.close();
  session = null;
  api.token = null;
  if (!error) {
    view.setStatus('offline');
    view.showLogin();
    return;
  }
  view.setStatus('refused', error.code || 'ERROR');
  view.showLogin(describeRefusal(error));
  view.log(`refused: ${error.code || ''} ${error.message}`);
}

function describeRefusal(error) {
  if (error.code === 'ORIGIN_NOT_ALLOWED') return `${error.message}: add ${location.origin} to ALLOWED_ORIGINS (ORIGIN_NOT_ALLOWED)`;
  return error.code ? `${error.message} (${error.code})` : error.message;
}

/** The typed client from the browser bundle: token provider, catch-up, dedupe, reconnect. */
function socketFeed(transport, position) {
  if (!window.NotifyGatewayClient) throw new Error('client bundle missing: run npm run build -w @notify-gateway/client');
  const client = window.NotifyGatewayClient.createNotificationClient({
    url: gatewayUrl,
    transports: [transport],
    position: position || undefined,
    // No refresh endpoint in the demo: an expired or refused token means logging in again.
    getToken: async ({ reason }) => {
      if (reason === 'unauthorized' || reason === 'expired' || session.claims.exp * 1000 < Date.now()) throw new Error('session expired: log in again');
      return api.token;
    },
  });
  client.on('notification', received);
  client.on('read', readElsewhere);
  client.on('state', (change) => {
    view.setStatus(change.state, change.state === 'stopped' ? change.reason : change.transport || change.reason);
    view.log(`socket ${change.state}${change.reason ? ` (${change.reason})` : ''}`);
  });
  // The client has already loaded the latest page for the reset streams; the list follows suit.
  client.on('reset', ({ streams, reason }) => {
    view.log(`reset (${reason}) for ${streams.join(', ')}: showing the latest page`);
    void reloadLatest();
  });
  client.on('error', (error) => view.log(`error ${error.code}: ${error.message}`));
  client.on('rate-limited', (event) => view.log(`rate limited: retry in ${event.retryAfter} s`));
  return { markRead: (id) => client.markRead(id), markAllRead: () => client.markAllRead(), close: () => client.close() };
}

function sseFeed(position) {
  const feed = openSseFeed({
    api,
    lastEventId: position,
    onNotification: received,
    onRead: readElsewhere,
    onState: (state, reason) => {
      view.setStatus(state, reason || 'sse');
      view.log(`stream ${state}${reason ? ` (${reason})` : ''}`);
    },
    onError: (message) => view.log(`error ${message}`),
    onReset: (reset) => {
      view.log(`reset (${reset.map((item) => item.reason).join(', ')}): showing the latest page`);
      void reloadLatest();
    },
  });
  return {
    markRead: (id) => api.markRead(id).then(() => readElsewhere({ id })),
    markAllRead: () => api.markAllRead().then(() => readElsewhere({ all: true })),
    close: feed.close,
  };
}

/**
 * After a reset (a position older than the store keeps, or more than CATCH_UP_MAX behind): the
 * list is the latest page, not a partial history.
 */
async function reloadLatest() {
  const page = await api.list(20);
  view.clearNotifications();
  for (const notification of page.items) view.addNotification(notification, markRead, 'bottom');
  await refreshUnread();
}

function received(notification) {
  view.addNotification(notification, markRead);
  view.log(`notification #${notification.cursor}: ${notification.title}`);
  refreshUnread();
}

function readElsewhere(event) {
  if (event.all) view.markAllRead();
  else if (event.id) view.markRead(event.id);
  refreshUnread();
}

function markRead(id) {
  act(() => session.feed.markRead(id));
}

async function act(operation) {
  try {
    await operation();
  } catch (error) {
    view.log(`error ${error.code || ''}: ${error.message}`);
  }
}

async function refreshUnread() {
  if (!session) return;
  try {
    view.setUnread(await api.unreadCount());
  } catch (error) {
    view.log(`unread count: ${error.message}`);
  }
}

// For the browser tests and the console.
window.demo = { gatewayUrl };
