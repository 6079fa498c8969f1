import { Catch, Controller, Get, Injectable, Module, type ArgumentsHost, type ExceptionFilter, type INestApplication } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { APP_FILTER, NestFactory } from '@nestjs/core';
import type { Response } from 'express';
import type { ServerResponse } from 'node:http';
import { NotificationGatewayModule, NotificationService, setupNotificationGateway, UserAccountService } from '../../src';
import { http } from '../support/http';
import { LogCapture } from '../support/log-capture';
import { connect, nextEvent } from '../support/sockets';
import { ALLOWED_ORIGIN, TEST_JWT_SECRET } from '../support/test-app';
import { demoUser, tokenFor } from '../support/users';

/** The host's own app-wide filter: it must not reach the gateway's routes, nor theirs the host's. */
@Catch()
class HostFilter implements ExceptionFilter {
  catch(_exception: unknown, host: ArgumentsHost): void {
    host.switchToHttp().getResponse<Response>().status(418).json({ host: 'filter' });
  }
}

@Injectable()
class HostSettings {
  constructor(readonly config: ConfigService) {}
}

@Controller('host')
class HostController {
  constructor(private readonly settings: HostSettings) {}

  @Get('jwt')
  jwt() {
    return { jwt: this.settings.config.get<string>('jwt') };
  }
}

@Module({
  imports: [
    // A host ConfigModule holding a key of the same name as one of the gateway's.
    ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => ({ jwt: 'the host value' })] }),
    NotificationGatewayModule.forRoot({
      config: { nodeEnv: 'test', databaseUrl: process.env.TEST_DATABASE_URL ?? '', jwtSecret: TEST_JWT_SECRET, frontendUrl: ALLOWED_ORIGIN, logLevel: 'warn' },
      health: false,
      logDestination: LogCapture.shared(),
    }),
  ],
  controllers: [HostController],
  providers: [HostSettings, { provide: APP_FILTER, useClass: HostFilter }],
})
class HostModule {}

describe('NotificationGatewayModule.forRoot inside a host app', () => {
  let app: INestApplication;
  let url: string;
  const throughHostWrapper: string[] = [];
  beforeAll(async () => {
    app = await NestFactory.create(HostModule, { logger: false });
    // A host middleware that wraps res.write, as compression does: what the gateway streams must go through it.
    app.use('/notifications/stream', (_req: unknown, res: ServerResponse, next: () => void) => {
      const write = res.write.bind(res) as (chunk: unknown, ...rest: unknown[]) => boolean;
      res.write = ((chunk: unknown, ...rest: unknown[]) => {
        throughHostWrapper.push(String(chunk));
        return write(chunk, ...rest);
      }) as ServerResponse['write'];
      next();
    });
    setupNotificationGateway(app);
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });
  afterAll(() => app.close());

  it('keeps the host\'s ConfigService and its own apart', async () => {
    expect((await http(`${url}/host/jwt`)).body).toEqual({ jwt: 'the host value' });
    // The gateway verifies with its own jwt settings.
    expect((await http(`${url}/notifications/unread-count`, { token: await tokenFor('user@acme.test') })).status).toBe(200);
  });

  it('the gateway\'s routes keep its error format under a host-wide filter; host routes keep the host\'s', async () => {
    expect((await http(`${url}/notifications`)).body).toEqual({ statusCode: 401, code: 'UNAUTHORIZED', message: expect.any(String) });
    expect(await http(`${url}/host/nothing`)).toMatchObject({ status: 418, body: { host: 'filter' } });
    // health: false leaves the route to the host.
    expect(await http(`${url}/health/live`)).toMatchObject({ status: 418, body: { host: 'filter' } });
    expect((await http(`${url}/metrics`)).status).toBe(200);
  });

  it('an SSE stream writes through a host\'s wrapper of res.write, never around it', async () => {
    const user = await demoUser('user@acme.test');
    const aborted = new AbortController();
    const response = await fetch(`${url}/notifications/stream`, {
      headers: { authorization: `Bearer ${await tokenFor('user@acme.test')}`, accept: 'text/event-stream', origin: ALLOWED_ORIGIN },
      signal: aborted.signal,
    });
    expect(response.status).toBe(200);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    const readUntil = async (needle: string): Promise<void> => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${needle}`);
        text += decoder.decode(value, { stream: true });
      }
    };
    try {
      await readUntil('retry:');
      const sent = await app.get(NotificationService).sendToUser(user.id, { title: 'Through the host wrapper', content: 'sse' });
      await readUntil(sent.id);
      expect(throughHostWrapper.join('')).toContain(`"id":"${sent.id}"`);
    } finally {
      aborted.abort();
    }
  });

  it('injects NotificationService and UserAccountService for the host', async () => {
    const user = await demoUser('user@acme.test');
    const socket = await connect(url, { token: await tokenFor('user@acme.test') });
    try {
      const live = nextEvent(socket, 'notification:new');
      const sent = await app.get(NotificationService).sendToUser(user.id, { title: 'From the host', content: 'forRoot' });
      expect((await live).id).toBe(sent.id);
      expect(app.get(UserAccountService)).toBeInstanceOf(UserAccountService);
    } finally {
      socket.close();
    }
  });
});

describe('NotificationGatewayModule without setupNotificationGateway(app)', () => {
  it('refuses to start instead of serving sockets with Nest\'s default adapter (no origin check, no size bound)', async () => {
    const app = await NestFactory.create(HostModule, { logger: false });
    try {
      await expect(app.listen(0, '127.0.0.1')).rejects.toThrow(/setupNotificationGateway\(app\)/);
    } finally {
      await app.close().catch(() => undefined);
    }
  });
});

