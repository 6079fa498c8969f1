// REST calls of the gateway's contract; the access token travels in the Authorization header only.

export class RequestError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = (body && body.code) || 'HTTP_ERROR';
  }
}

export class GatewayApi {
  constructor(baseUrl) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.token = null;
  }

  async call(method, path, body) {
    const headers = { accept: 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response;
    try {
      response = await fetch(this.baseUrl + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
      // A refused Origin gets no CORS headers, so the browser hides the 403 behind a network error.
      throw new RequestError(0, { code: 'UNREACHABLE', message: `The gateway did not answer this page's origin (${location.origin}): not in ALLOWED_ORIGINS, or the gateway is down` });
    }
    const text = await response.text();
    const parsed = text ? JSON.parse(text) : null;
    if (!response.ok) throw new RequestError(response.status, parsed);
    return parsed;
  }

  login(email, password) {
    return this.call('POST', '/auth/login', { email, password });
  }

  list(limit) {
    return this.call('GET', `/notifications?limit=${limit}`);
  }

  unreadCount() {
    return this.call('GET', '/notifications/unread-count').then((body) => body.count);
  }

  markRead(id) {
    return this.call('PATCH', `/notifications/${encodeURIComponent(id)}/read`);
  }

  markAllRead() {
    return this.call('POST', '/notifications/read-all');
  }

  /** Demo only: the user an admin may send to, by email. */
  recipient(email) {
    return this.call('GET', `/demo/api/recipient?email=${encodeURIComponent(email)}`);
  }

  send(notification) {
    return this.call('POST', '/notifications', notification);
  }

  /** A single-use ticket: EventSource cannot send an Authorization header. */
  streamTicket() {
    return this.call('POST', '/notifications/stream-ticket');
  }
}

/** The claims of a JWT, for display only: the server decides what the token allows. */
export function claimsOf(token) {
  const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
  return JSON.parse(atob(payload.padEnd(payload.length + ((4 - (payload.length % 4)) % 4), '=')));
}
