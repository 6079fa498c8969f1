'use strict';
/** What the figures were measured on: machine, limits, and the versions of what was measured. */

const os = require('node:os');
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

/** @param {string} file */
function readOr(file, fallback = '') {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return fallback;
  }
}

/** Version of an installed package, looked up in the backend's node_modules, then the root's. @param {string} root @param {string} name */
function packageVersion(root, name) {
  for (const dir of [join(root, 'apps/backend/node_modules'), join(root, 'node_modules')]) {
    const file = join(dir, name, 'package.json');
    if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')).version;
  }
  return null;
}

const MEASURED_PACKAGES = [
  'socket.io',
  'engine.io',
  'ws',
  'socket.io-client',
  '@nestjs/core',
  '@nestjs/platform-express',
  '@nestjs/platform-socket.io',
  '@nestjs/websockets',
  '@socket.io/redis-adapter',
  'ioredis',
  '@prisma/client',
  '@prisma/adapter-pg',
  'pg',
  'jsonwebtoken',
  'rate-limiter-flexible',
  'nestjs-pino',
  'pino',
  'prom-client',
  'class-validator',
];

/** @param {string} root */
function machineInfo(root) {
  const cpus = os.cpus();
  const osRelease = /^PRETTY_NAME="?([^"\n]+)"?/m.exec(readOr('/etc/os-release'));
  const limits = readOr('/proc/self/limits');
  const nofile = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
  return {
    nproc: os.availableParallelism ? os.availableParallelism() : cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: osRelease ? osRelease[1] : `${os.type()} ${os.release()}`,
    kernel: os.release(),
    node: process.version,
    loadAverageAtStart: os.loadavg().map((v) => Math.round(v * 100) / 100),
    limits: {
      openFilesSoft: nofile ? nofile[1] : null,
      openFilesHard: nofile ? nofile[2] : null,
      ephemeralPorts: readOr('/proc/sys/net/ipv4/ip_local_port_range').replace(/\s+/g, '-'),
      somaxconn: readOr('/proc/sys/net/core/somaxconn'),
    },
  };
}

/** @param {string} root */
function packageVersions(root) {
  /** @type {Record<string, string|null>} */
  const versions = {};
  for (const name of MEASURED_PACKAGES) versions[name] = packageVersion(root, name);
  return versions;
}

/**
 * PostgreSQL's and Redis's versions, null for one that does not answer.
 * @param {string} root @param {string} adminDbUrl @param {string} redisUrl
 */
async function versionsOfServices(root, adminDbUrl, redisUrl) {
  const { Client } = require('pg');
  /** @type {{ postgres: string | null, redis: string | null }} */
  const out = { postgres: null, redis: null };
  const client = new Client({ connectionString: adminDbUrl, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    out.postgres = (await client.query('SHOW server_version')).rows[0].server_version;
  } catch {
    // reported as null
  } finally {
    await client.end().catch(() => undefined);
  }
  try {
    const Redis = require(require.resolve('ioredis', { paths: [join(root, 'apps/backend')] }));
    const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000 });
    await redis.connect();
    const info = await redis.info('server');
    out.redis = /redis_version:(\S+)/.exec(info)?.[1] ?? null;
    redis.disconnect();
  } catch {
    // reported as null
  }
  return out;
}

module.exports = { machineInfo, packageVersions, packageVersion, versionsOfServices };
