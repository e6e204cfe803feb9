import type { AppConfig } from '../shared/config';
import { CORP_TOKEN_KIND } from '../shared/wecom-suite/corps';
import { SUITE_TICKET_KIND, SUITE_TICKET_TTL_MS } from '../shared/wecom-suite/suite';
import type { Bench, BenchContext, BenchResult } from './lib';
import { tenantPass } from './tenant-pass';

/**
 * The timer's refresh pass with one WeCom suite installed in 100,000 corps (BENCH_CORPS), seeded
 * through the store with sealed permanent codes and corp-token expiries spread over 2 h, the
 * simulator answering `get_corp_token` (./tenant-pass.ts runs it, as for authorizers: the hub
 * and the simulator in processes of their own); one pass per simulated minute over
 * BENCH_CORP_HOURS simulated hours (default 3: the first pass's burst, then a whole token
 * lifetime of steady passes). The suite ticket (valid 30 minutes) is minted every 10 simulated
 * minutes, as WeCom pushes it.
 */

const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const Q = '/qyapi/cgi-bin/service';

function corpPass(ctx: BenchContext): Promise<BenchResult[]> {
  const app: AppConfig = {
    name: 'bench-suite',
    kind: 'wecom-suite',
    appId: 'wwbenchsuite000001',
    appSecret: 'bench-suite-secret',
    token: 'BenchToken',
    encodingAesKey: AES_KEY,
    providerCorpId: 'wwbenchprovider',
    tokenMode: 'classic',
    forward: [],
  };
  const count = Number(process.env.BENCH_CORPS ?? 100_000);
  return tenantPass(
    ctx,
    {
      tenant: 'corp',
      app,
      tokenKind: CORP_TOKEN_KIND,
      tokenPath: `${Q}/get_corp_token`,
      sharedPath: `${Q}/get_suite_token`,
      count,
      hours: Number(process.env.BENCH_CORP_HOURS ?? 3),
      logEvery: Number(process.env.BENCH_CORP_LOG_EVERY ?? 60),
      hubEnv: (simUrl) => ({ WECOM_API_BASE: `${simUrl}/qyapi` }),
      ticket: async (sim) => {
        const pushed = await sim.call<{ ticket: string; timeStamp: number }>({
          op: 'suite',
          cfg: {
            suiteId: app.appId,
            suiteSecret: app.appSecret ?? '',
            token: app.token ?? '',
            encodingAesKey: AES_KEY,
            providerCorpId: app.providerCorpId ?? '',
          },
        });
        return {
          kind: SUITE_TICKET_KIND,
          value: pushed.ticket,
          expiresAt: pushed.timeStamp * 1000 + SUITE_TICKET_TTL_MS,
        };
      },
      ticketEvery: 10,
      seed: (sim, target, start) =>
        sim.call({ op: 'seed-corps', target, appName: app.name, suiteId: app.appId, count, start }),
    },
    'wxhub_bench_corps',
  );
}

export const corpPassBench: Bench = { name: 'corp-pass', run: corpPass };
