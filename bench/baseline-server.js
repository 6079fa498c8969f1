'use strict';
/**
 * The bare baseline: a plain socket.io 4.8 server doing the same work as the gateway with
 * nothing else — no authentication, no database, no Redis, no logging, no metrics.
 *
 *   socket.io namespace /notifications: joins `user:{auth.uid}`, plus `tenant:{auth.tid}` when
 *     `auth.admin` (the gateway's room layout);
 *   POST /emit {room, event, payload}: emits to the room (sockets and SSE streams), 201 with the payload;
 *   GET /stream?uid=&tid=&admin=1: an SSE stream in the same rooms;
 *   GET /health/ready: 200.
 *
 * CONNECTION_STATE_RECOVERY=1 turns on socket.io's connection state recovery (the churn
 * scenario's second baseline): a client back within 2 minutes, on the same process, gets the
 * packets it missed.
 *
 * Engine options match the gateway's (websocket + polling, no compression, same ping and
 * payload limits) so the comparison isolates what the gateway adds.
 */

const http = require('node:http');
const { Server } = require('socket.io');

const port = Number(process.env.PORT ?? 4100);
const host = process.env.HOST ?? '127.0.0.1';

/** room → SSE responses */
const sseRooms = new Map();

const server = http.createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (request.method === 'GET' && url.pathname === '/health/ready') {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end('{"status":"ok"}');
    return;
  }
  if (request.method === 'GET' && url.pathname === '/stream') {
    const rooms = [`user:${url.searchParams.get('uid')}`];
    if (url.searchParams.get('admin') === '1') rooms.push(`tenant:${url.searchParams.get('tid')}`);
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    response.write('retry: 3000\n\n');
    for (const room of rooms) {
      let members = sseRooms.get(room);
      if (!members) sseRooms.set(room, (members = new Set()));
      members.add(response);
    }
    request.on('close', () => {
      for (const room of rooms) {
        const members = sseRooms.get(room);
        members?.delete(response);
        if (members?.size === 0) sseRooms.delete(room);
      }
    });
    return;
  }
  if (request.method === 'POST' && url.pathname === '/emit') {
    /** @type {Buffer[]} */
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        response.writeHead(400).end();
        return;
      }
      namespace.to(body.room).emit(body.event, body.payload);
      const members = sseRooms.get(body.room);
      if (members) {
        const frame = `event: ${body.event}\nid: ${body.payload.cursor}\ndata: ${JSON.stringify(body.payload)}\n\n`;
        for (const stream of members) stream.write(frame);
      }
      response.writeHead(201, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body.payload));
    });
    return;
  }
  response.writeHead(404).end();
});

const io = new Server(server, {
  serveClient: false,
  transports: ['polling', 'websocket'],
  maxHttpBufferSize: 16384,
  connectTimeout: 10_000,
  pingInterval: 25_000,
  pingTimeout: 20_000,
  perMessageDeflate: false,
  cors: { origin: true, credentials: true },
  ...(process.env.CONNECTION_STATE_RECOVERY === '1' ? { connectionStateRecovery: { maxDisconnectionDuration: 120_000, skipMiddlewares: true } } : {}),
});

const namespace = io.of('/notifications');
namespace.on('connection', (socket) => {
  const auth = socket.handshake.auth ?? {};
  const rooms = [`user:${auth.uid}`];
  if (auth.admin) rooms.push(`tenant:${auth.tid}`);
  void socket.join(rooms);
});

server.listen(port, host, () => {
  process.stdout.write(`${JSON.stringify({ level: 'info', msg: 'baseline listening', port })}\n`);
});

const stop = () => {
  void io.close();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 3000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
