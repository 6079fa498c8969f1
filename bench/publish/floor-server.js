'use strict';
/**
 * The publish floor: the least a persist-then-deliver server can do, measured beside the gateway
 * in the same run. No authentication, no validation, no streams or offsets, no Redis, no logging:
 * a plain `INSERT … RETURNING` on a pg pool of the gateway's size, then the socket.io emit.
 *
 *   POST /emit {room, event, payload}: one row, then the emit; 201 with the payload
 *     (the same protocol as bench/baseline-server.js, so the load generators drive both);
 *   POST /emit-batch {items: [{room, event, payload}]}: one multi-row INSERT (unnest), then the emits;
 *   socket.io /notifications: joins `user:{auth.uid}` (plus `tenant:{auth.tid}` when `auth.admin`);
 *   GET /health/ready: 200.
 *
 * With FLOOR_ADVISORY_LOCK=1 it plays the design streams replaced: each notification is its own
 * transaction that first takes the cluster-wide `pg_advisory_xact_lock(72707370)`, as every insert
 * did before. GET /lock-hold then answers {seconds, notifications}: the time the lock was held
 * (from granted to COMMIT answered), summed, and how many notifications held it.
 */

const http = require('node:http');
const { Pool } = require('pg');
const { Server } = require('socket.io');

const port = Number(process.env.PORT ?? 4200);
const host = process.env.HOST ?? '127.0.0.1';
const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 20 });
const ADVISORY_LOCK = process.env.FLOOR_ADVISORY_LOCK === '1';
const lockHold = { seconds: 0, notifications: 0 };

const TABLE = `CREATE TABLE IF NOT EXISTS floor_notifications (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(), seq bigserial, room text NOT NULL, payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now())`;

/** @param {http.IncomingMessage} request @returns {Promise<any>} */
function readJson(request) {
  return new Promise((resolve, reject) => {
    /** @type {Buffer[]} */
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (error) {
        reject(error);
      }
    });
    request.on('error', reject);
  });
}

/** @param {{ room: string, event: string, payload: any }} item @param {{ id: string, seq: string }} row */
function emit(item, row) {
  namespace.to(item.room).emit(item.event, { ...item.payload, id: row.id, cursor: String(row.seq) });
}

const INSERT = 'INSERT INTO floor_notifications (room, payload) SELECT * FROM unnest($1::text[], $2::jsonb[]) RETURNING id, seq';

/** One statement for all items; or, in the old design's mode, one locked transaction per item. @param {any[]} items */
async function store(items) {
  const rooms = items.map((/** @type {any} */ i) => i.room);
  const payloads = items.map((/** @type {any} */ i) => JSON.stringify(i.payload));
  if (!ADVISORY_LOCK) return (await pool.query(INSERT, [rooms, payloads])).rows;
  const rows = [];
  for (const [index, room] of rooms.entries()) {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(72707370)');
      const granted = process.hrtime.bigint();
      rows.push((await client.query(INSERT, [[room], [payloads[index]]])).rows[0]);
      await client.query('COMMIT');
      lockHold.seconds += Number(process.hrtime.bigint() - granted) / 1e9;
      lockHold.notifications += 1;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
  return rows;
}

const server = http.createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (request.method === 'GET' && url.pathname === '/health/ready') {
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    return;
  }
  if (request.method === 'GET' && url.pathname === '/lock-hold') {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(lockHold));
    return;
  }
  if (request.method === 'POST' && (url.pathname === '/emit' || url.pathname === '/emit-batch')) {
    readJson(request)
      .then(async (body) => {
        const items = url.pathname === '/emit' ? [body] : body.items;
        const rows = await store(items);
        items.forEach((/** @type {any} */ item, /** @type {number} */ index) => emit(item, rows[index]));
        response.writeHead(201, { 'content-type': 'application/json' });
        response.end(url.pathname === '/emit' ? JSON.stringify({ ...body.payload, id: rows[0].id }) : JSON.stringify({ stored: rows.length }));
      })
      .catch(() => {
        if (!response.headersSent) response.writeHead(500).end();
      });
    return;
  }
  response.writeHead(404).end();
});

const io = new Server(server, { serveClient: false, transports: ['polling', 'websocket'], maxHttpBufferSize: 16384, perMessageDeflate: false, cors: { origin: true, credentials: true } });
const namespace = io.of('/notifications');
namespace.on('connection', (socket) => {
  const auth = socket.handshake.auth ?? {};
  const rooms = [`user:${auth.uid}`];
  if (auth.admin) rooms.push(`tenant:${auth.tid}`);
  void socket.join(rooms);
});

pool
  .query(TABLE)
  .then(() => server.listen(port, host, () => process.stdout.write(`${JSON.stringify({ level: 'info', msg: 'floor listening', port })}\n`)))
  .catch((error) => {
    process.stderr.write(`floor: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });

const stop = () => {
  void io.close();
  server.close(() => void pool.end().finally(() => process.exit(0)));
  setTimeout(() => process.exit(0), 3000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
