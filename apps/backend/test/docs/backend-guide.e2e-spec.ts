import type { NestExpressApplication } from '@nestjs/platform-express';
import { createApp, loadConfig } from '../../src';
import { connect, nextEvent, waitForDisconnect } from '../support/sockets';
import { ALLOWED_ORIGIN, TEST_JWT_SECRET } from '../support/test-app';
import { demoUser, tokenFor } from '../support/users';
import { OrderNotificationsModule, OrderNotifier } from './example/order-notifications.module';

describe('backend guide: a host module injects NotificationService and ConnectionService', () => {
  let app: NestExpressApplication;
  let url: string;

  beforeAll(async () => {
    const { config } = loadConfig({
      NODE_ENV: 'test',
      DATABASE_URL: process.env.TEST_DATABASE_URL,
      JWT_SECRET: TEST_JWT_SECRET,
      FRONTEND_URL: ALLOWED_ORIGIN,
      LOG_LEVEL: 'warn',
    });
    app = await createApp(config, { imports: [OrderNotificationsModule] });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });
  afterAll(() => app.close());

  it('sendToUser returns the committed notification and the user receives it live', async () => {
    const user = await demoUser('user@acme.test');
    const socket = await connect(url, { token: await tokenFor('user@acme.test') });
    const live = nextEvent(socket, 'notification:new');
    const stored = await app.get(OrderNotifier).orderShipped(user.id, 'A-1001');
    expect(stored).toMatchObject({ scope: 'USER', priority: 'high', data: { orderNumber: 'A-1001' } });
    expect(await live).toEqual(stored);
    socket.close();
  });

  it('sendToTenant reaches the tenant admins; bad input gets the same validation as clients', async () => {
    const admin = await demoUser('admin@acme.test');
    const socket = await connect(url, { token: await tokenFor('admin@acme.test') });
    const live = nextEvent(socket, 'notification:new');
    await app.get(OrderNotifier).stockLow(admin.tenantId, 'SKU-7');
    expect((await live).title).toBe('Stock low');
    await expect(app.get(OrderNotifier).orderShipped(admin.id, 'x'.repeat(2000))).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    socket.close();
  });

  it('disconnectUser ends the user\'s sessions', async () => {
    const user = await demoUser('user@acme.test');
    const socket = await connect(url, { token: await tokenFor('user@acme.test') });
    const gone = waitForDisconnect(socket);
    app.get(OrderNotifier).closeLiveSessions(user.id);
    expect(await gone).toBe('io server disconnect');
  });
});
