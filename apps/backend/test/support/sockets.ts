import { io, type Socket } from 'socket.io-client';
import { NOTIFICATIONS_NAMESPACE, type ClientToServerEvents, type ServerToClientEvents } from '@notify-gateway/contracts';
import { ALLOWED_ORIGIN } from './test-app';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface ConnectOptions {
  token?: string;
  origin?: string;
  transports?: ('websocket' | 'polling')[];
  extraHeaders?: Record<string, string>;
  query?: Record<string, string>;
}

/** A socket.io-client on /notifications; resolves once connected, rejects with connect_error. */
export function connect(url: string, options: ConnectOptions = {}): Promise<ClientSocket> {
  const socket: ClientSocket = io(url + NOTIFICATIONS_NAMESPACE, {
    auth: options.token === undefined ? {} : { token: options.token },
    transports: options.transports ?? ['websocket'],
    reconnection: false,
    forceNew: true,
    query: options.query,
    timeout: 5000,
    extraHeaders: { origin: options.origin ?? ALLOWED_ORIGIN, ...options.extraHeaders },
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
}

/** The connect_error message of a refused connection. */
export async function refusal(url: string, options: ConnectOptions = {}): Promise<string> {
  try {
    const socket = await connect(url, options);
    socket.close();
    return 'CONNECTED';
  } catch (error) {
    return (error as Error).message;
  }
}

export function nextEvent<E extends keyof ServerToClientEvents>(
  socket: ClientSocket,
  event: E,
  timeoutMs = 5000,
): Promise<Parameters<ServerToClientEvents[E]>[0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${String(event)} within ${timeoutMs} ms`)), timeoutMs);
    socket.once(event as 'notification:new', ((payload: unknown) => {
      clearTimeout(timer);
      resolve(payload as Parameters<ServerToClientEvents[E]>[0]);
    }) as never);
  });
}

/** Collects every payload of an event from now on. */
export function collect<E extends keyof ServerToClientEvents>(socket: ClientSocket, event: E): Parameters<ServerToClientEvents[E]>[0][] {
  const received: Parameters<ServerToClientEvents[E]>[0][] = [];
  socket.on(event as 'notification:new', ((payload: unknown) => received.push(payload as never)) as never);
  return received;
}

/** Emits with an ack and resolves with the ack payload. */
export function request<E extends keyof ClientToServerEvents>(
  socket: ClientSocket,
  event: E,
  payload: unknown,
  timeoutMs = 5000,
): Promise<Parameters<NonNullable<Parameters<ClientToServerEvents[E]>[1]>>[0]> {
  return socket.timeout(timeoutMs).emitWithAck(event as 'notification:sync', payload as never) as never;
}

export function waitForDisconnect(socket: ClientSocket, timeoutMs = 5000): Promise<string> {
  if (socket.disconnected) return Promise.resolve('already disconnected');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still connected after ${timeoutMs} ms`)), timeoutMs);
    socket.once('disconnect', (reason) => {
      clearTimeout(timer);
      resolve(reason);
    });
  });
}

/** Waits long enough for a stray event to arrive: used to assert that something did NOT arrive. */
export const settle = (ms = 300): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` until it holds; past `timeoutMs` it fails naming `what`. */
export async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await settle(25);
  }
}
