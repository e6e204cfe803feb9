import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import { createHubApp } from '../functions/index';
import { createTestHub, TEST_API_KEY, testApp } from '../functions/testing';
import { signPush } from '../functions/wx-callback/testing';
import { createDeps } from '../shared/platform/deps';
import { listen } from '../shared/platform/server';
import { aesKeyOf } from '../shared/wechat/message-crypto';
import { httpLoad } from './http-load';
import { benchTargets, discardingLog } from './setup';

/**
 * `npx tsx bench/push-profile.ts [sqlite|mysql] [seconds] [out.cpuprofile] [forward]`: safe-mode
 * pushes to `/wx/{app}/callback` for a while under the V8 profiler (the load client, and with
 * `forward` a forward target answering 204, run in this process too), then the profile is
 * written for Chrome DevTools or any `.cpuprofile` reader.
 */
const [which = 'sqlite', seconds = '4', out = 'push.cpuprofile', forward] = process.argv.slice(2);
const sink = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(204).end());
});
await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/hook`;
const ENCODING_AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const { targets, cleanup } = benchTargets({ warmupMs: 0, durationMs: 0, log: console.log });
const target = targets.find((t) => t.name === which);
if (target === undefined) throw new Error(`no ${which} target (set BENCH_MYSQL_URL for mysql)`);
const app = testApp({
  token: 'benchtoken',
  encodingAesKey: ENCODING_AES_KEY,
  forward: forward === 'forward' ? [{ url: sinkUrl }] : [],
});
const hub = await createTestHub(target, { apps: [app], poolSize: 10 });
const deps = createDeps({ ...hub.deps, log: discardingLog() });
const server = await listen(createHubApp(deps), 0, discardingLog(), '127.0.0.1');
const now = Math.floor(hub.sim.sim.clock.now() / 1000);
const key = aesKeyOf(ENCODING_AES_KEY);
const pool = Array.from({ length: 60_000 }, (_, i) =>
  signPush({
    app: app.name,
    token: 'benchtoken',
    message: `<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[o-bench]]></FromUserName><CreateTime>${now}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[message ${i}]]></Content><MsgId>${now}${String(i).padStart(8, '0')}</MsgId></xml>`,
    timestamp: now,
    nonce: String(100_000 + i),
    encrypt: { aesKey: key, appId: app.appId, format: 'xml' },
  }),
);
let used = 0;
const next = () => {
  const p = pool[used++];
  if (p === undefined) throw new Error('pool exhausted');
  return p;
};
const load = (ms: number) =>
  httpLoad({
    url: server.url,
    headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'text/xml' },
    concurrency: 16,
    durationMs: ms,
    next,
  });
await load(500);
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.start');
const rate = await load(Number(seconds) * 1000);
const { profile } = await session.post('Profiler.stop');
writeFileSync(out, JSON.stringify(profile));
console.log(`${which}: ${Math.round(rate)} pushes/s, ${used} sent; profile in ${out}`);
await server.close(1_000);
await hub.close();
sink.close();
cleanup();
