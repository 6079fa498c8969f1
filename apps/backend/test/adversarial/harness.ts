import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { io } from 'socket.io-client';
import type { NotificationView } from '@notify-gateway/contracts';
import { PrismaService } from '../../src/core/prisma/prisma.service';
import { NotificationGateway } from '../../src/notifications/socket/notification.gateway';
import type { GatewayNamespace } from '../../src/notifications/socket/gateway-socket';
import { SseHub } from '../../src/notifications/sse/sse-hub';
import { ConnectionLimiter } from '../../src/security/connection-limiter';
import type { LogCapture } from '../support/log-capture';
import type { ClientSocket } from '../support/sockets';
import type { RunningApp } from '../support/test-app';
import { ALLOWED_ORIGIN } from '../support/test-app';
import { createAccount, type Account, type Role } from './accounts';
import { call, openSse, type Reply, type RequestOptions, type SseClient, type SseOptions } from './http';
import { NS, openRawEngine, rawHttp, rawJoined, type RawEngine, type RawEngineOptions, type RawResponse } from './raw';
import type { DemoEmail } from '../support/users';

/**
 * The adversarial harness. Each hostile case declares what it attacks and the exact answer it
 * must get; the harness runs it while a well-behaved CONTROL user (a socket.io client on each
 * instance and an SSE stream) stays connected, publishes to that user throughout the attack, and
 * then checks that the control received every one of those notifications on every transport,
 * kept its sessions, that the server still answers /health/live, that nothing the attacker saw
 * looks like a stack, SQL, a library's error text or a path, and that no log line written during
 * the case holds a credential.
 */

export type Category = 'tokens' | 'origins' | 'protocol' | 'payloads' | 'http';
export const CATEGORIES: readonly Category[] = ['tokens', 'origins', 'protocol', 'payloads', 'http'];

export interface HostileCase<T = unknown> {
  name: string;
  category: Category;
  /** The answer in words: refused / error code / disconnect / status / stored verbatim. */
  response: string;
  /** The outcome the attack must observe, exactly (compared with toEqual). */
  expected: T;
  attack(ctx: AttackContext): Promise<T>;
  /**
   * Waits on the server's own clocks (e.g. the 45 s heartbeat): started before the other cases
   * of a pass and checked after them, with the control checks spanning the whole pass.
   */
  background?: boolean;
  timeoutMs?: number;
}

/** Build a case with its outcome type inferred from `expected`. */
export function hostile<T>(definition: HostileCase<T>): HostileCase {
  return definition as unknown as HostileCase;
}

export interface Target {
  name: 'A' | 'B';
  url: string;
  running: RunningApp;
}

/** What the server holds for one instance, read from the app itself. */
export interface ServerState {
  engineClients: number;
  sockets: number;
  streams: number;
  leases: number;
}

export function engineOf(target: Target): { clientsCount: number; clients: Record<string, EngineSocket> } {
  return namespaceOf(target).server.engine as unknown as { clientsCount: number; clients: Record<string, EngineSocket> };
}

export interface EngineSocket {
  readyState: string;
  writeBuffer: { data?: unknown }[];
  transport: { name: string; socket?: { bufferedAmount?: number } };
}

export function namespaceOf(target: Target): GatewayNamespace {
  const namespace = (target.running.app.get(NotificationGateway) as unknown as { namespace?: GatewayNamespace }).namespace;
  if (!namespace) throw new Error('the gateway has no namespace yet');
  return namespace;
}

export function serverState(target: Target): ServerState {
  return {
    engineClients: engineOf(target).clientsCount,
    sockets: namespaceOf(target).sockets.size,
    streams: target.running.app.get(SseHub).stats().streams,
    leases: target.running.app.get(ConnectionLimiter).active,
  };
}

// ---------------------------------------------------------------------------------------------
// What must never reach an attacker, and never reach a log line.

/** Markers of an internal leak in anything a client sees. */
const LEAK_PATTERNS: [string, RegExp][] = [
  ['a stack frame', /\bat [\w.<>$]+ \(|\n\s+at /],
  ['a file path', /\/(home|work|usr|srv|opt|app|src|dist|node_modules)\/|[A-Za-z]:\\\\|\.(ts|js|mjs|cjs):\d+/],
  ['SQL', /\b(SELECT|INSERT INTO|UPDATE|DELETE FROM)\b[\s\S]*\b(FROM|VALUES|SET|WHERE)\b|syntax error at or near|relation "|violates \w+ constraint/i],
  ['database error text', /prisma|postgres|\bP\d{4}\b|ECONNREFUSED|ETIMEDOUT|invalid input syntax|duplicate key/i],
  [
    'a library error text',
    /\b(TypeError|ReferenceError|RangeError|SyntaxError|URIError)\b|Unexpected token|is not a function|Cannot read prop|Maximum call stack|JsonWebTokenError|jwt (malformed|expired|must be|signature|issuer|audience)|invalid (signature|algorithm)|request entity too large|unsupported charset|Failed to decode param/i,
  ],
  ['a framework banner', /x-powered-by|\bExpress\b/i],
];

/** Credentials in a log line, whatever the case registered. */
const LOG_LEAK_PATTERNS: [string, RegExp][] = [
  ['a JWT', /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/],
  ['a Bearer credential', /Bearer\s+[A-Za-z0-9._~+/-]{8,}/i],
  ['a ticket in a URL', /[?&]ticket=[A-Za-z0-9_-]{8,}/],
  ['a token in a URL', /[?&](access_)?token=[A-Za-z0-9._-]{8,}/],
];

/** Leak markers in what a client saw, once the attacker's own input (`sent`, echoed back legitimately) is taken out. */
export function leaksIn(values: unknown[], sent: string[] = []): string[] {
  const found: string[] = [];
  const echoes = sent.flatMap((value) => [value, JSON.stringify(value).slice(1, -1)]).filter((value) => value.length >= 4);
  for (const value of values) {
    let text = typeof value === 'string' ? value : Buffer.isBuffer(value) ? value.toString('latin1') : JSON.stringify(value);
    if (text === undefined) continue;
    for (const echo of echoes) text = text.split(echo).join('');
    for (const [what, pattern] of LEAK_PATTERNS) {
      const match = pattern.exec(text);
      if (match) found.push(`${what}: …${text.slice(Math.max(0, match.index - 40), match.index + 60)}…`);
    }
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// The attacker's toolbox: everything it opens is closed after the case; everything it sees is
// scanned for leaks.

export class AttackContext {
  readonly seen: unknown[] = [];
  readonly secrets: string[] = [];
  readonly echoes: string[] = [];
  private readonly cleanups: (() => unknown)[] = [];
  private readonly raws: RawEngine[] = [];
  private readonly streams: SseClient[] = [];

  constructor(
    readonly a: Target,
    readonly b: Target,
    readonly harness: Harness,
    readonly logMark: number,
  ) {}

  get logs(): LogCapture {
    return this.a.running.logs;
  }

  /** Something the attacker saw: scanned for internal details. */
  saw(...values: unknown[]): void {
    this.seen.push(...values);
  }

  /** Input of the attacker's own that may come back verbatim (a stored title): not a leak when it does. */
  sent(...values: string[]): void {
    this.echoes.push(...values);
  }

  /** Something that must never appear in a log line. */
  secret(...values: string[]): void {
    this.secrets.push(...values.filter((value) => value.length >= 8));
  }

  defer(cleanup: () => unknown): void {
    this.cleanups.push(cleanup);
  }

  account(role: Role, tenantOf?: DemoEmail): Promise<Account> {
    return createAccount(role, tenantOf);
  }

  /** A position in the shared log: `securityEvents(event, mark)` reads from there. */
  mark(): number {
    return this.logs.lines.length;
  }

  /** Security log entries written since `from` (default: the start of the case). */
  securityEvents(event?: string, from = this.logMark): Record<string, unknown>[] {
    return this.logs.lines
      .slice(from)
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      })
      .filter((entry) => entry.msg === 'SECURITY' && (event === undefined || entry.event === event));
  }

  async http(path: string, options: RequestOptions = {}, target: Target = this.a): Promise<Reply> {
    if (options.token) this.secret(options.token);
    const reply = await call(target.url, path, options);
    this.saw(reply.text, reply.headers);
    return reply;
  }

  async sse(options: SseOptions = {}, target: Target = this.a): Promise<SseClient> {
    if (options.token) this.secret(options.token);
    const stream = await openSse(target.url, options);
    this.saw(stream.text, stream.headers);
    this.streams.push(stream);
    return stream;
  }

  async rawHttp(request: string | Buffer, target: Target = this.a, timeoutMs?: number): Promise<RawResponse> {
    const response = await rawHttp(target.url, request, timeoutMs);
    this.saw(response.body, response.headers);
    return response;
  }

  async raw(options: RawEngineOptions = {}, target: Target = this.a): Promise<RawEngine> {
    const raw = await openRawEngine(target.url, options);
    this.raws.push(raw);
    return raw;
  }

  async joined(token: string, options: RawEngineOptions = {}, target: Target = this.a): Promise<RawEngine> {
    this.secret(token);
    const raw = await rawJoined(target.url, token, options);
    this.raws.push(raw);
    return raw;
  }

  /** A socket.io-client as a browser would open it; `connect_error` messages and error events are recorded as seen. */
  socket(
    options: { token?: string; auth?: Record<string, unknown>; origin?: string; query?: Record<string, string>; headers?: Record<string, string> } = {},
    target: Target = this.a,
  ): Promise<ClientSocket> {
    if (options.token) this.secret(options.token);
    const socket: ClientSocket = io(target.url + NS, {
      auth: options.auth ?? (options.token === undefined ? {} : { token: options.token }),
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      timeout: 5000,
      query: options.query,
      extraHeaders: { origin: options.origin ?? ALLOWED_ORIGIN, ...options.headers },
    });
    this.defer(() => socket.close());
    socket.on('notification:error', (payload) => this.saw(payload));
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(socket));
      socket.once('connect_error', (error) => {
        this.saw(error.message, (error as { data?: unknown }).data);
        socket.close();
        reject(error);
      });
    });
  }

  /** The connect_error message a socket.io-client gets, or CONNECTED. */
  async connectError(options: Parameters<AttackContext['socket']>[0], target: Target = this.a): Promise<string> {
    try {
      const socket = await this.socket(options, target);
      socket.close();
      return 'CONNECTED';
    } catch (error) {
      return (error as Error).message;
    }
  }

  async dispose(): Promise<void> {
    for (const raw of this.raws) {
      this.saw(...raw.frames.filter((frame) => typeof frame === 'string'));
      raw.destroy();
    }
    for (const stream of this.streams) {
      this.saw(...stream.messages.map((message) => message.data));
      stream.close();
    }
    for (const cleanup of this.cleanups.reverse()) {
      try {
        await cleanup();
      } catch {
        // best effort
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The control user.

interface Published {
  id: string;
  seq: number;
}

class Control {
  readonly published: Published[] = [];
  readonly onSocketA = new Set<string>();
  readonly onSocketB = new Set<string>();
  readonly disconnects: string[] = [];
  /** Publishes the server did not answer 201 (or at all). */
  readonly refused: string[] = [];
  private inFlight = new Set<Promise<unknown>>();
  private paused = 0;
  private seq = 0;
  /** When each publish was sent, by seq; and each delivery to socket B (the other instance): at, ms after the publish. */
  private readonly sentAt = new Map<number, number>();
  readonly deliveriesOnB: { at: number; ms: number }[] = [];

  private constructor(
    readonly user: Account,
    readonly publisher: Account,
    readonly socketA: ClientSocket,
    readonly socketB: ClientSocket,
    readonly stream: SseClient,
    readonly idA: string,
    readonly idB: string,
    private readonly a: Target,
  ) {
    for (const [socket, inbox, name] of [
      [socketA, this.onSocketA, 'A'],
      [socketB, this.onSocketB, 'B'],
    ] as const) {
      socket.on('notification:new', (view: NotificationView) => inbox.add(view.id));
      socket.on('disconnect', (reason) => this.disconnects.push(`${name}: ${reason}`));
    }
    socketB.on('notification:new', (view: NotificationView) => {
      const sent = this.sentAt.get(Number(/^control #(\d+)$/.exec(view.title)?.[1]));
      if (sent !== undefined) this.deliveriesOnB.push({ at: Date.now(), ms: Date.now() - sent });
    });
  }

  /** p99 (and count) of the delivery delay to socket B for publishes delivered from `since` to `until` (ms epoch). */
  deliveryP99(since: number, until = Infinity): { p99: number; samples: number } {
    const delays = this.deliveriesOnB.filter((entry) => entry.at >= since && entry.at < until).map((entry) => entry.ms).sort((x, y) => x - y);
    return { p99: delays.length ? delays[Math.min(delays.length - 1, Math.ceil(delays.length * 0.99) - 1)] : NaN, samples: delays.length };
  }

  static async start(a: Target, b: Target): Promise<Control> {
    const user = await createAccount('USER', 'admin@acme.test');
    const publisher = await createAccount('ADMIN', 'admin@acme.test');
    const token = user.token({ expiresIn: 3600 });
    const connect = (target: Target): Promise<ClientSocket> =>
      new Promise((resolve, reject) => {
        const socket: ClientSocket = io(target.url + NS, {
          auth: { token },
          transports: ['websocket'],
          reconnection: false,
          forceNew: true,
          extraHeaders: { origin: ALLOWED_ORIGIN },
        });
        socket.once('connect', () => resolve(socket));
        socket.once('connect_error', reject);
      });
    const [socketA, socketB, stream] = await Promise.all([connect(a), connect(b), openSse(a.url, { token })]);
    if (stream.status !== 200) throw new Error(`control stream refused: ${stream.status}`);
    return new Control(user, publisher, socketA, socketB, stream, socketA.id ?? '', socketB.id ?? '', a);
  }

  get onStream(): Set<string> {
    return new Set(this.stream.messages.filter((message) => message.event === 'notification:new').map((message) => (message.data as NotificationView).id));
  }

  /** Publishes one notification to the control user by REST, as an admin of its tenant. */
  async publish(): Promise<void> {
    if (this.paused > 0) return;
    const seq = ++this.seq;
    this.sentAt.set(seq, Date.now());
    const sent = call(this.a.url, '/notifications', {
      token: this.publisher.token(),
      body: { title: `control #${seq}`, content: 'the control user must receive this', userId: this.user.id },
    }).then(
      (reply) => {
        if (reply.status === 201) this.published.push({ id: (reply.body as NotificationView).id, seq });
        else this.refused.push(`#${seq}: ${reply.status} ${reply.text.slice(0, 120)}`);
      },
      (error: unknown) => {
        this.refused.push(`#${seq}: ${(error as Error).message}`);
      },
    );
    this.inFlight.add(sent);
    try {
      await sent;
    } finally {
      this.inFlight.delete(sent);
    }
  }

  /** Holds the ticker and waits for publishes in flight: for an instant measurement of handles. */
  async quiet<T>(measure: () => T | Promise<T>): Promise<T> {
    this.paused += 1;
    try {
      await Promise.allSettled([...this.inFlight]);
      return await measure();
    } finally {
      this.paused -= 1;
    }
  }

  /** Waits until every notification published from index `from` reached each transport. */
  async missing(from: number, timeoutMs = 5000): Promise<{ socketA: number; socketB: number; stream: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const wanted = this.published.slice(from).map((entry) => entry.id);
      const stream = this.onStream;
      const missing = {
        socketA: wanted.filter((id) => !this.onSocketA.has(id)).length,
        socketB: wanted.filter((id) => !this.onSocketB.has(id)).length,
        stream: wanted.filter((id) => !stream.has(id)).length,
      };
      if ((missing.socketA === 0 && missing.socketB === 0 && missing.stream === 0) || Date.now() > deadline) return missing;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** Forget what was received so far (between passes: the harness's own memory must not grow). */
  reset(): void {
    this.published.length = 0;
    this.refused.length = 0;
    this.onSocketA.clear();
    this.onSocketB.clear();
    this.stream.messages.length = 0;
    this.sentAt.clear();
    this.deliveriesOnB.length = 0;
  }

  close(): void {
    this.socketA.close();
    this.socketB.close();
    this.stream.close();
  }
}

// ---------------------------------------------------------------------------------------------

export interface ControlReport {
  publishedDuringAttack: boolean;
  /** Control publishes that did not get their 201 during the case. */
  publishesRefused: string[];
  missedOnSocketA: number;
  missedOnSocketB: number;
  missedOnStream: number;
  socketsConnected: boolean;
  sameSessions: boolean;
  streamOpen: boolean;
  /** GET /health/live on each instance after the attack. */
  liveness: { A: number; B: number };
}

export const CONTROL_OK: ControlReport = {
  publishedDuringAttack: true,
  publishesRefused: [],
  missedOnSocketA: 0,
  missedOnSocketB: 0,
  missedOnStream: 0,
  socketsConnected: true,
  sameSessions: true,
  streamOpen: true,
  liveness: { A: 200, B: 200 },
};

export interface Verdict {
  outcome: unknown;
  control: ControlReport;
  leaksToAttacker: string[];
  credentialsInLogs: string[];
}

export interface CaseReport {
  name: string;
  category: Category;
  response: string;
  ms: number;
  actual: Verdict;
  wanted: Verdict;
}

export function passed(report: CaseReport): boolean {
  return JSON.stringify(report.actual) === JSON.stringify(report.wanted);
}

interface Run {
  hostile: HostileCase;
  ctx: AttackContext;
  from: number;
  refusedFrom: number;
  started: number;
  outcome: Promise<unknown>;
}

const TICK_MS = 250;

export interface Snapshot {
  heapUsedBytes: number;
  handles: Record<string, number>;
  servers: Record<'A' | 'B', ServerState>;
}

export class Harness {
  private constructor(
    readonly a: Target,
    readonly b: Target,
    readonly control: Control,
  ) {}

  static async start(a: RunningApp, b: RunningApp): Promise<Harness> {
    const targetA: Target = { name: 'A', url: a.url, running: a };
    const targetB: Target = { name: 'B', url: b.url, running: b };
    return new Harness(targetA, targetB, await Control.start(targetA, targetB));
  }

  /** The server state with only the control connected (a socket on each instance, a stream on A). */
  static readonly IDLE: Record<'A' | 'B', ServerState> = {
    A: { engineClients: 1, sockets: 1, streams: 1, leases: 2 },
    B: { engineClients: 1, sockets: 1, streams: 0, leases: 1 },
  };

  async run(hostile: HostileCase): Promise<CaseReport> {
    return this.finish(this.begin(hostile));
  }

  /** Background cases first, then the others one by one, then the background results. */
  async runPass(cases: HostileCase[]): Promise<CaseReport[]> {
    const background = cases.filter((hostile) => hostile.background).map((hostile) => this.begin(hostile));
    const reports: CaseReport[] = [];
    for (const hostile of cases.filter((candidate) => !candidate.background)) reports.push(await this.run(hostile));
    for (const run of background) reports.push(await this.finish(run));
    return reports;
  }

  begin(hostile: HostileCase): Run {
    const ctx = new AttackContext(this.a, this.b, this, this.a.running.logs.lines.length);
    const from = this.control.published.length;
    const refusedFrom = this.control.refused.length;
    const started = Date.now();
    // Published at the start of the attack, and every TICK_MS while it runs.
    const ticker = setInterval(() => void this.control.publish().catch(() => undefined), TICK_MS).unref();
    const first = this.control.publish();
    const timeoutMs = hostile.timeoutMs ?? 20_000;
    const outcome = (async () => {
      let timer: NodeJS.Timeout | undefined;
      try {
        await first;
        return await Promise.race([
          hostile.attack(ctx),
          new Promise((resolve) => {
            timer = setTimeout(() => resolve(`the attack did not finish within ${timeoutMs} ms`), timeoutMs).unref();
          }),
        ]);
      } catch (error) {
        return `the attack threw: ${(error as Error).stack ?? String(error)}`;
      } finally {
        clearTimeout(timer);
        clearInterval(ticker);
      }
    })();
    return { hostile, ctx, from, refusedFrom, started, outcome };
  }

  async finish(run: Run): Promise<CaseReport> {
    const outcome = await run.outcome;
    await run.ctx.dispose();
    await this.control.publish();
    const missed = await this.control.missing(run.from);
    const live = async (target: Target): Promise<number> => (await call(target.url, '/health/live').catch(() => ({ status: 0 }))).status;
    const control: ControlReport = {
      publishedDuringAttack: this.control.published.length - run.from >= 2,
      publishesRefused: this.control.refused.slice(run.refusedFrom),
      missedOnSocketA: missed.socketA,
      missedOnSocketB: missed.socketB,
      missedOnStream: missed.stream,
      socketsConnected: this.control.socketA.connected && this.control.socketB.connected,
      sameSessions: this.control.socketA.id === this.control.idA && this.control.socketB.id === this.control.idB && this.control.disconnects.length === 0,
      streamOpen: !this.control.stream.isEnded(),
      liveness: { A: await live(this.a), B: await live(this.b) },
    };
    const lines = this.a.running.logs.lines.slice(run.ctx.logMark);
    const credentialsInLogs = lines.flatMap((line) => {
      const found = LOG_LEAK_PATTERNS.filter(([, pattern]) => pattern.test(line)).map(([what]) => what);
      if (run.ctx.secrets.some((secret) => line.includes(secret))) found.push('a secret the case used');
      return found.length ? [`${found.join(', ')}: ${line.slice(0, 160)}`] : [];
    });
    return {
      name: run.hostile.name,
      category: run.hostile.category,
      response: run.hostile.response,
      ms: Date.now() - run.started,
      actual: { outcome, control, leaksToAttacker: leaksIn(run.ctx.seen, run.ctx.echoes), credentialsInLogs },
      wanted: { outcome: run.hostile.expected, control: CONTROL_OK, leaksToAttacker: [], credentialsInLogs: [] },
    };
  }

  /** Waits until both servers hold only the control's sessions. */
  async settle(timeoutMs = 40_000): Promise<Record<'A' | 'B', ServerState>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const servers = { A: serverState(this.a), B: serverState(this.b) };
      if (JSON.stringify(servers) === JSON.stringify(Harness.IDLE) || Date.now() > deadline) return servers;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /**
   * Heap after a forced GC, and the process's active handles by type, with the servers settled.
   * Each app's database pool is first filled to its maximum (20) so that its size does not depend
   * on how busy the last 30 s were (idle connections close after 30 s).
   */
  async snapshot(): Promise<Snapshot> {
    const servers = await this.settle();
    await Promise.all([this.a, this.b].map((target) => fillPool(target.running)));
    const gc = forcedGc();
    return this.control.quiet(async () => {
      for (let i = 0; i < 4; i += 1) {
        gc();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      gc();
      return { heapUsedBytes: process.memoryUsage().heapUsed, handles: handleCounts(), servers };
    });
  }

  close(): void {
    this.control.close();
  }
}

export function handleCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([x], [y]) => x.localeCompare(y)));
}

/** `gc` without starting node with --expose-gc. */
export function forcedGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Fills an app's database pool to its maximum (20 connections). */
export async function fillPool(running: RunningApp): Promise<void> {
  const prisma = running.app.get(PrismaService);
  await Promise.all(Array.from({ length: 20 }, () => prisma.$queryRaw`SELECT 1 AS one FROM pg_sleep(0.05)`));
}
