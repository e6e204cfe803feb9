import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decrypt as wecomDecrypt, getSignature as wecomSignature } from '@wecom/crypto';
import { createHubApp } from '../functions/index';
import { createTestHub, TEST_API_KEY, testApp } from '../functions/testing';
import { type SignedPush, signPush } from '../functions/wx-callback/testing';
import { createDeps } from '../shared/platform/deps';
import { listen } from '../shared/platform/server';
import type { Store } from '../shared/store';
import type { TestTarget } from '../shared/store/testing';
import {
  aesKeyOf,
  decryptMessage,
  encryptMessage,
  signatureOf,
  wechatSignature,
} from '../shared/wechat/message-crypto';
import { httpLoad } from './http-load';
import type { Bench, BenchContext, BenchResult } from './lib';
import { formatOps, interleavedMedians, median } from './lib';
import { benchTargets, discardingLog } from './setup';

const ENCODING_AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const TOKEN = 'benchtoken';
const APP_ID = 'wxbench0000000001';

const textPush = (n: number, now: number) =>
  `<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[o-bench-user-000000000000]]></FromUserName><CreateTime>${now}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[benchmark message ${n}]]></Content><MsgId>${now}${String(n).padStart(8, '0')}</MsgId></xml>`;

/** Verify + decrypt of one safe-mode push: ours against @wecom/crypto on the same input. */
async function cryptoAlone(ctx: BenchContext): Promise<BenchResult[]> {
  const key = aesKeyOf(ENCODING_AES_KEY);
  const encrypted = encryptMessage(key, textPush(1, 1714112445), APP_ID);
  const [ts, nonce] = ['1714112445', '415670741'];
  const presented = wechatSignature(TOKEN, ts, nonce, encrypted);
  const theirFn = () => {
    if (wecomSignature(TOKEN, ts, nonce, encrypted) !== presented) throw new Error('bad signature');
    const { message, id } = wecomDecrypt(ENCODING_AES_KEY, encrypted);
    if (id !== APP_ID || message.length === 0) throw new Error('bad message');
  };
  const ourFn = () => {
    if (!signatureOf(presented, TOKEN, ts, nonce, encrypted)) {
      throw new Error('bad signature');
    }
    if (decryptMessage(aesKeyOf(ENCODING_AES_KEY), encrypted, APP_ID).length === 0) {
      throw new Error('bad message');
    }
  };
  const { theirs, ours } = await interleavedMedians(ctx, theirFn, ourFn);
  const baseline = { name: '@wecom/crypto verify + decrypt', opsPerSec: theirs };
  ctx.log(
    `crypto: @wecom/crypto ${formatOps(theirs)}/s, wxhub ${formatOps(ours)}/s, ratio ${(ours / theirs).toFixed(2)} (goal >= 1.0)`,
  );
  return [
    { bench: '@wecom/crypto verify + decrypt (baseline)', target: 'cpu', opsPerSec: theirs },
    { bench: 'wxhub verify + decrypt', target: 'cpu', opsPerSec: ours, baseline },
  ];
}

/**
 * The same store with replay protection off: pushes are stored without their signature (what the
 * hub did before it remembered signatures). Only the bench builds this, to measure that one write.
 */
function withoutReplayMemory(store: Store): Store {
  const messages: Store['messages'] = {
    ...store.messages,
    insert: (msg, deliveries, now) => store.messages.insert(msg, deliveries, now),
  };
  return { ...store, messages };
}

/** A third-party platform event no route acts on: only the shared push pipeline runs. */
const infoPush = (n: number, now: number) =>
  `<xml><AppId><![CDATA[wxbenchcomponent01]]></AppId><CreateTime>${now}</CreateTime><InfoType><![CDATA[notify_third_fasteregister]]></InfoType><AuthorizerAppid><![CDATA[wxauth${String(n).padStart(10, '0')}]]></AuthorizerAppid></xml>`;

/**
 * The push routes measured: each gets an app of its kind and distinct safe-mode pushes signed
 * beforehand. Another route is one more line here.
 */
interface PushRoute {
  bench: string;
  kind: 'official' | 'component';
  path: (app: string) => string;
  message: (n: number, now: number) => string;
  /** Forward every push to a local target that answers 204 (forwarded before the answer). */
  forward?: boolean;
  /** Measure it on a second server whose store remembers no signature. */
  withoutReplayMemory?: boolean;
}
const PUSH_ROUTES: PushRoute[] = [
  {
    bench: 'POST /wx/{app}/callback, safe mode',
    kind: 'official',
    path: (app) => `/wx/${app}/callback`,
    message: textPush,
    withoutReplayMemory: true,
  },
  {
    bench: 'POST /wx/{app}/callback, safe mode, forwarded to a local target',
    kind: 'official',
    path: (app) => `/wx/${app}/callback`,
    message: textPush,
    forward: true,
  },
  {
    bench: 'POST /wx/{app}/component/event, safe mode',
    kind: 'component',
    path: (app) => `/wx/${app}/component/event`,
    message: infoPush,
  },
  {
    // The message URL: its app is a component, the push an authorizer's.
    bench: 'POST /wx/{app}/component/message/{appid}, safe mode',
    kind: 'component',
    path: (app) => `/wx/${app}/component/message/wxbenchauthorizer01`,
    message: textPush,
  },
];

/** A forward target on loopback that reads each delivery and answers 204. */
async function startSink(): Promise<{
  url: string;
  received: () => number;
  close(): Promise<void>;
}> {
  let received = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received += 1;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received: () => received,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Pushes signed ahead of the runs (the signing is the client's cost, kept out of them). */
function pushPool(sign: (n: number) => SignedPush) {
  let pool: SignedPush[] = [];
  let at = 0;
  let signed = 0;
  return {
    /** Signs pushes until `count` are waiting (those sent already are let go). */
    fill(count: number) {
      pool = pool.slice(at);
      at = 0;
      while (pool.length < count) {
        signed += 1;
        pool.push(sign(signed));
      }
    },
    next: (): SignedPush => {
      const p = pool[at];
      if (p === undefined) throw new Error('push pool exhausted');
      at += 1;
      return p;
    },
    /** How many were sent. */
    used: () => signed - (pool.length - at),
  };
}

/**
 * Safe-mode pushes (verify + decrypt + parse + store + answer, and a forward where the route says
 * so) against the cached token route on the same server in the same run, interleaved rounds,
 * medians. Every push is distinct, signed beforehand; the stored count is checked.
 */
async function pushRoutes(target: TestTarget, ctx: BenchContext): Promise<BenchResult[]> {
  const sink = await startSink();
  const routes = PUSH_ROUTES.map((route) => ({
    route,
    app: testApp({
      kind: route.kind,
      token: TOKEN,
      encodingAesKey: ENCODING_AES_KEY,
      tokenMode: 'classic',
      forward: route.forward === true ? [{ url: sink.url }] : [],
    }),
  }));
  // The MySQL pool as deployed (shared/db/mysql.ts), not the tests' smaller one.
  const hub = await createTestHub(target, { apps: routes.map((r) => r.app), poolSize: 10 });
  const deps = createDeps({ ...hub.deps, log: discardingLog() });
  const server = await listen(createHubApp(deps), 0, discardingLog(), '127.0.0.1');
  const offDeps = createDeps({
    ...hub.deps,
    store: withoutReplayMemory(hub.deps.store),
    log: discardingLog(),
  });
  const offServer = await listen(createHubApp(offDeps), 0, discardingLog(), '127.0.0.1');
  try {
    const now = Math.floor(hub.sim.sim.clock.now() / 1000);
    const key = aesKeyOf(ENCODING_AES_KEY);
    const headers = { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'text/xml' };
    // Enough pushes for one run at 20,000/s: a push is at most as fast as the token route.
    const perRun = (ms: number) => Math.ceil((ms / 1000) * 20_000);
    const cases = routes.flatMap(({ route, app }) => {
      const pool = pushPool((n) => {
        const signed = signPush({
          app: app.name,
          token: TOKEN,
          message: route.message(n, now),
          timestamp: now,
          nonce: String(100_000 + n),
          encrypt: { aesKey: key, appId: app.appId, format: 'xml' },
        });
        return {
          ...signed,
          path: signed.path.replace(`/wx/${app.name}/callback`, route.path(app.name)),
        };
      });
      const run = (url: string) => (ms: number) => {
        pool.fill(perRun(ms));
        return httpLoad({ url, headers, concurrency: 16, durationMs: ms, next: pool.next });
      };
      const list = [{ bench: route.bench, app, pool, load: run(server.url) }];
      if (route.withoutReplayMemory === true) {
        list.push({
          bench: `${route.bench}, no replay memory`,
          app,
          pool,
          load: run(offServer.url),
        });
      }
      return list;
    });
    const token = (ms: number) =>
      httpLoad({
        url: `${server.url}/v1/apps/${routes[0]?.app.name}/token`,
        headers,
        concurrency: 16,
        durationMs: ms,
      });
    await token(ctx.warmupMs);
    for (const c of cases) await c.load(ctx.warmupMs);
    const tokens: number[] = [];
    const rates = cases.map(() => [] as number[]);
    for (let round = 0; round < 3; round++) {
      tokens.push(await token(ctx.durationMs));
      for (const [i, c] of cases.entries()) rates[i]?.push(await c.load(ctx.durationMs));
    }
    const tokenRate = median(tokens);
    const baseline = { name: 'cached token route', opsPerSec: tokenRate };
    const rows: BenchResult[] = [
      { bench: 'GET /v1/apps/{app}/token (baseline)', target: target.name, opsPerSec: tokenRate },
    ];
    ctx.log(`${target.name}: token route ${formatOps(tokenRate)}/s`);
    for (const [i, c] of cases.entries()) {
      const rate = median(rates[i] ?? []);
      rows.push({ bench: c.bench, target: target.name, opsPerSec: rate, baseline });
      // The machine drifts between rounds: each round's push run against its own token run too.
      const perRound = (rates[i] ?? []).map((r, round) => r / (tokens[round] ?? Number.NaN));
      ctx.log(
        `${target.name}: ${c.bench}: ${formatOps(rate)}/s, ratio ${(rate / tokenRate).toFixed(3)} (per round ${perRound.map((r) => r.toFixed(3)).join(', ')}; median ${median(perRound).toFixed(3)})`,
      );
    }
    let forwarded = 0;
    for (const { route, app } of routes) {
      const sent = cases.filter((c) => c.app === app)[0]?.pool.used() ?? 0;
      const stored = await hub.deps.store.messages.count(app.name);
      if (stored !== sent) {
        throw new Error(`${route.bench}: expected ${sent} stored pushes, found ${stored}`);
      }
      if (route.forward === true) forwarded += sent;
    }
    // Every stored push reached the target before its answer or through the outbox afterwards.
    if (sink.received() < forwarded) {
      const pending = await hub.deps.store.outbox.list({ status: 'pending' });
      ctx.log(
        `${target.name}: ${sink.received()} forwarded of ${forwarded}, ${pending.length} pending`,
      );
    }
    return rows;
  } finally {
    await server.close(1_000);
    await offServer.close(1_000);
    await hub.close();
    await sink.close();
  }
}

export const callbackCryptoBench: Bench = { name: 'callback-crypto', run: cryptoAlone };
export const callbackPushBench: Bench = {
  name: 'callback-push',
  async run(ctx) {
    const { targets, cleanup } = benchTargets(ctx);
    try {
      const rows: BenchResult[] = [];
      for (const t of targets) rows.push(...(await pushRoutes(t, ctx)));
      return rows;
    } finally {
      cleanup();
    }
  },
};
