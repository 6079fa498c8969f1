import { UserConnectionCounter } from '../../../src/security/user-connection-counter';
import { hostile, type HostileCase, type Target } from '../harness';
import { NS } from '../raw';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());
const ABANDONED = 20;

/** The user's connections this instance counts against MAX_CONNECTIONS_PER_USER (one per lease it holds). */
function userLeases(target: Target, userId: string): number {
  const local = (target.running.app.get(UserConnectionCounter) as unknown as { local: Map<string, string | Set<string>> }).local;
  const ids = local.get(userId);
  return ids === undefined ? 0 : typeof ids === 'string' ? 1 : ids.size;
}

/**
 * Handshakes dropped while the server is still authenticating them: the connection lease the
 * admission takes for each (per-instance total, per IP, per user) must come back, or a client
 * that drops its CONNECTs mid-authentication fills the caps with connections that do not exist.
 */
export const abandonedHandshakeCases: HostileCase[] = [
  hostile({
    name: `${ABANDONED} namespace CONNECTs with a valid token, each connection dropped at once (abandoned mid-authentication)`,
    category: 'protocol',
    response: 'refused: nothing is kept; every lease taken for them is released and the user still connects',
    expected: { leasesLeftOver: 0, userConnects: 'CONNECTED', leasesWhileConnected: 1 },
    attack: async (ctx) => {
      const user = await ctx.account('USER');
      const token = user.token();
      ctx.secret(token);
      for (let i = 0; i < ABANDONED; i += 1) {
        const raw = await ctx.raw();
        raw.send(`40${NS},${JSON.stringify({ token })}`);
        raw.destroy();
      }
      // Long enough for every admission to finish (a database and Redis round trip each).
      await sleep(1500);
      const leasesLeftOver = userLeases(ctx.a, user.id);
      // The negative control: a session that does connect holds its lease.
      const socket = await ctx.socket({ token }).catch((error: Error) => error.message);
      const userConnects = typeof socket === 'string' ? socket : 'CONNECTED';
      const leasesWhileConnected = userLeases(ctx.a, user.id);
      if (typeof socket !== 'string') socket.close();
      return { leasesLeftOver, userConnects, leasesWhileConnected };
    },
  }),
];
