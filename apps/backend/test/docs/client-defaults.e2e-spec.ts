import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createNotificationClient, type NotificationClient, type StateChange } from '@notify-gateway/client';
import { startApp, type RunningApp } from '../support/test-app';
import { tokenFor } from '../support/users';

const README = readFileSync(resolve(__dirname, '../../../../packages/client/README.md'), 'utf8');

/** The client's documented default transports are the ones it uses. */
describe('packages/client README: default transports', () => {
  let running: RunningApp;
  let client: NotificationClient | undefined;
  beforeAll(async () => {
    running = await startApp();
  });
  afterAll(async () => {
    client?.close();
    await running.close();
  });

  it('documents websocket only, and a client with no `transports` option connects over websocket', async () => {
    const row = /^\| `transports` \| `(\[[^`]*\])` \|/m.exec(README);
    expect(row?.[1]).toBe("['websocket']");
    client = createNotificationClient({ url: running.url, getToken: () => tokenFor('user@acme.test') });
    const states: StateChange[] = [];
    await new Promise<void>((done) =>
      client?.on('state', (change) => {
        states.push(change);
        if (change.state === 'live') done();
      }),
    );
    expect(client.transport).toBe('websocket');
    expect(states.map((s) => ('transport' in s ? s.transport : undefined))).not.toContain('polling');
  });
});
