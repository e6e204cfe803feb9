import { AUTHORIZER_TOKEN_KIND } from '../shared/component/authorizers';
import type { AppConfig } from '../shared/config';
import type { Bench, BenchContext, BenchResult } from './lib';
import { tenantPass } from './tenant-pass';

/**
 * (a) The timer's refresh pass with one component of 100,000 authorizers (BENCH_AUTHORIZERS),
 * seeded through the store with sealed refresh tokens and token expiries spread over 2 h, the
 * simulator answering `api_authorizer_token` (./tenant-pass.ts runs it: the hub and the simulator
 * in processes of their own); one pass per simulated minute over BENCH_AUTHORIZER_HOURS
 * simulated hours: default 3 (the first pass's burst, then a whole token lifetime of steady
 * passes, in a few minutes); 24 for the whole day (about 10 minutes on SQLite).
 */

const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';

function authorizerPass(ctx: BenchContext): Promise<BenchResult[]> {
  const app: AppConfig = {
    name: 'bench-component',
    kind: 'component',
    appId: 'wxcbench0000000001',
    appSecret: 'bench-component-secret',
    token: 'BenchToken',
    encodingAesKey: AES_KEY,
    tokenMode: 'classic',
    messageMode: 'safe',
    forward: [],
  };
  const count = Number(process.env.BENCH_AUTHORIZERS ?? 100_000);
  return tenantPass(
    ctx,
    {
      tenant: 'authorizer',
      app,
      tokenKind: AUTHORIZER_TOKEN_KIND,
      tokenPath: '/cgi-bin/component/api_authorizer_token',
      sharedPath: '/cgi-bin/component/api_component_token',
      count,
      hours: Number(process.env.BENCH_AUTHORIZER_HOURS ?? 3),
      logEvery: Number(process.env.BENCH_AUTHORIZER_LOG_EVERY ?? 60),
      hubEnv: () => ({}),
      // WeChat pushes the ticket every 10 minutes, valid 12 h: minted every 10 simulated hours.
      ticket: async (sim) => {
        const pushed = await sim.call<{ ticket: string; createTime: number }>({
          op: 'component',
          cfg: {
            appId: app.appId,
            secret: app.appSecret ?? '',
            token: 'BenchToken',
            encodingAesKey: AES_KEY,
          },
        });
        return {
          kind: 'component_verify_ticket',
          value: pushed.ticket,
          expiresAt: pushed.createTime * 1000 + 12 * 3600_000,
        };
      },
      ticketEvery: 600,
      seed: (sim, target, start) =>
        sim.call({ op: 'seed', target, appName: app.name, appId: app.appId, count, start }),
    },
    'wxhub_bench_authz',
  );
}

export const authorizerPassBench: Bench = { name: 'authorizer-pass', run: authorizerPass };
