import { decrypt as wecomDecrypt, getSignature as wecomSignature } from '@wecom/crypto';
import { createHubApp } from '../functions/index';
import { createTestHub, TEST_API_KEY, testApp } from '../functions/testing';
import { signPush } from '../functions/wx-callback/testing';
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

/**
 * Safe-mode pushes (verify + decrypt + parse + store + answer) against the cached token route on
 * the same server in the same run, with replay protection on (the hub as shipped) and off (the
 * signature not remembered), interleaved. Every push is distinct (its own MsgId), signed beforehand.
 */
async function pushRoute(target: TestTarget, ctx: BenchContext): Promise<BenchResult[]> {
  const app = testApp({ token: TOKEN, encodingAesKey: ENCODING_AES_KEY, tokenMode: 'classic' });
  const hub = await createTestHub(target, { apps: [app] });
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
    let n = 0;
    const nextPush = () => {
      n += 1;
      return signPush({
        app: app.name,
        token: TOKEN,
        message: textPush(n, now),
        timestamp: now,
        nonce: String(100_000 + n),
        encrypt: { aesKey: key, appId: app.appId, format: 'xml' },
      });
    };
    const pool = Array.from({ length: 90_000 }, nextPush);
    let used = 0;
    const next = () => {
      const p = pool[used++];
      if (p === undefined) throw new Error('push pool exhausted; lower BENCH_DURATION_MS');
      return p;
    };
    const headers = { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'text/xml' };
    const tokenPath = `${server.url}/v1/apps/${app.name}/token`;
    const load = (mode: 'token' | 'push' | 'push-off', durationMs: number) =>
      httpLoad({
        url: mode === 'token' ? tokenPath : mode === 'push' ? server.url : offServer.url,
        headers,
        concurrency: 16,
        durationMs,
        ...(mode === 'token' ? {} : { next }),
      });
    await load('token', ctx.warmupMs);
    await load('push', ctx.warmupMs);
    await load('push-off', ctx.warmupMs);
    const tokens: number[] = [];
    const pushes: number[] = [];
    const offs: number[] = [];
    for (let round = 0; round < 3; round++) {
      tokens.push(await load('token', ctx.durationMs));
      pushes.push(await load('push', ctx.durationMs));
      offs.push(await load('push-off', ctx.durationMs));
    }
    const token = median(tokens);
    const push = median(pushes);
    const off = median(offs);
    const stored = await hub.deps.store.messages.count(app.name);
    ctx.log(
      `${target.name}: token route ${formatOps(token)}/s; safe-mode push ${formatOps(push)}/s, ratio ${(push / token).toFixed(3)}; without replay memory ${formatOps(off)}/s, ratio ${(off / token).toFixed(3)} (goal: drop <= 0.01, measured ${(off / token - push / token).toFixed(3)}); ${stored} pushes stored (${used} sent)`,
    );
    if (stored !== used) throw new Error(`expected ${used} stored pushes, found ${stored}`);
    const baseline = { name: 'cached token route', opsPerSec: token };
    return [
      { bench: 'GET /v1/apps/{app}/token (baseline)', target: target.name, opsPerSec: token },
      {
        bench: 'POST /wx/{app}/callback, safe mode',
        target: target.name,
        opsPerSec: push,
        baseline,
      },
      {
        bench: 'POST /wx/{app}/callback, safe mode, no replay memory',
        target: target.name,
        opsPerSec: off,
        baseline,
      },
    ];
  } finally {
    await server.close(1_000);
    await offServer.close(1_000);
    await hub.close();
  }
}

export const callbackCryptoBench: Bench = { name: 'callback-crypto', run: cryptoAlone };
export const callbackPushBench: Bench = {
  name: 'callback-push',
  async run(ctx) {
    const { targets, cleanup } = benchTargets(ctx);
    try {
      const rows: BenchResult[] = [];
      for (const t of targets) rows.push(...(await pushRoute(t, ctx)));
      return rows;
    } finally {
      cleanup();
    }
  },
};
