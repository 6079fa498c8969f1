'use strict';
/**
 * What the security events of one socket handshake cost, through the gateway's own
 * SecurityEventLogger (apps/backend/dist): the lines of the previous handshake (AUTHENTICATION_SUCCESS,
 * WEBSOCKET_CONNECT, one ROOM_JOIN per room) against the current ones (AUTHENTICATION_SUCCESS, and
 * WEBSOCKET_CONNECT carrying `rooms`), at LOG_LEVEL info (lines written) and warn (the bench's level:
 * counted and sampled, not written). Lines go to /dev/null, so this is CPU, not disk.
 *
 *   node bench/scenarios/connections-security-events.js [handshakes=20000]
 */
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const dist = path.join(__dirname, '../../apps/backend/dist');
const backend = path.join(__dirname, '../../apps/backend');
const pino = require(require.resolve('pino', { paths: [backend] }));
const { PinoLogger } = require(require.resolve('nestjs-pino', { paths: [backend] }));
const { SecurityEventLogger } = require(path.join(dist, 'security/security-event.logger.js'));
const { MetricsService } = require(path.join(dist, 'observability/metrics.service.js'));
const { SecurityLogSampler } = require(path.join(dist, 'security/security-log-sampler.js'));

const handshakes = Number(process.argv[2] ?? 20_000);
const ROOMS = { USER: ['user:u'], ADMIN: ['user:u', 'tenant:t'], SUPER_ADMIN: ['user:u', 'tenant:t', 'global'] };

/** @param {string} level @returns {any} */
function securityLogger(level) {
  const formatters = { level: (/** @type {string} */ label) => ({ level: label }) };
  // A fresh pino root per logger: nestjs-pino keeps the first one it was given.
  const logger = new PinoLogger({ pinoHttp: { level, formatters, stream: pino.destination({ dest: '/dev/null', sync: true }) } });
  Object.defineProperty(logger, 'logger', { value: pino({ level, formatters }, pino.destination({ dest: '/dev/null', sync: true })) });
  const config = { get: () => ({ securityLogBurst: 100, securityLogRatePerSec: 10 }) };
  const security = new SecurityEventLogger(logger, new MetricsService(), config);
  // The sampler on a clock of our own, summarised every 1,000 handshakes as if 10 s had passed: its map
  // stays as small as the server's own 10 s summary keeps it, instead of filling to its cap in this loop.
  const clock = { now: 0 };
  security.sampler = new SecurityLogSampler(100, 10, () => clock.now);
  security.tick = (/** @type {number} */ i) => {
    if (i % 1000 !== 0) return;
    clock.now += 10_000;
    security.summarize();
  };
  return security;
}

/** @param {any} security @param {number} i @param {string[]} rooms @param {'previous'|'current'} shape */
function handshake(security, i, rooms, shape) {
  const userId = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
  const context = { clientId: `c${i}`, ip: `10.0.${(i >> 8) & 255}.${i & 255}`, origin: 'https://app.example', transport: 'websocket', userId, tenantId: 'tenant-1' };
  security.tick(i);
  security.log('AUTHENTICATION_SUCCESS', context);
  if (shape === 'previous') {
    security.log('WEBSOCKET_CONNECT', { ...context, via: 'websocket' });
    for (const room of rooms) security.log('ROOM_JOIN', { clientId: context.clientId, userId, tenantId: context.tenantId, room });
  } else {
    security.log('WEBSOCKET_CONNECT', { ...context, via: 'websocket', rooms });
  }
}

/**
 * Microseconds of CPU per handshake, best of three runs after a warm-up.
 * @param {string} level @param {keyof typeof ROOMS} role @param {'previous'|'current'} shape
 */
function measure(level, role, shape) {
  const security = securityLogger(level);
  for (let i = 0; i < 2000; i++) handshake(security, i, ROOMS[role], shape);
  let best = Infinity;
  for (let run = 0; run < 3; run++) {
    const start = performance.now();
    for (let i = 0; i < handshakes; i++) handshake(security, run * handshakes + i, ROOMS[role], shape);
    best = Math.min(best, ((performance.now() - start) * 1000) / handshakes);
  }
  const dropped = security.metrics.securityLogDropped.hashMap ? Object.values(security.metrics.securityLogDropped.hashMap).reduce((n, v) => n + v.value, 0) : 0;
  if (dropped > 0) console.error(`${level} ${role} ${shape}: ${dropped} lines dropped by sampling`);
  return Math.round(best * 10) / 10;
}

const rows = [];
for (const level of ['info', 'warn']) {
  for (const role of /** @type {const} */ (['USER', 'SUPER_ADMIN'])) {
    const previous = measure(level, role, 'previous');
    const current = measure(level, role, 'current');
    rows.push({ level, role, lines: `${2 + ROOMS[role].length} → 2`, previousUs: previous, currentUs: current });
  }
}
console.table(rows);
