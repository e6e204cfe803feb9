import { tracingChannel } from 'node:diagnostics_channel';
import { readFileSync, writeFileSync } from 'node:fs';
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
 * pushes to `/wx/{app}/callback` (`BENCH_PUSH_ROUTE=message`: a component's message URL) for a
 * while under the V8 profiler (the load client, and with `forward` a forward target answering
 * 204, run in this process too), then the profile is written for Chrome DevTools or any
 * `.cpuprofile` reader. It also prints this process's CPU time per push and, on MySQL, the
 * statements sent per push by kind and their mean round trip (mysql2's `mysql2:query` tracing
 * channel); with `BENCH_MYSQLD_PID` (a database server on this machine) the server's CPU time per
 * push too.
 */
const statements = new Map<string, number>();
let counting = false;
let roundTrips = { n: 0, ms: 0 };
const started = new WeakMap<object, number>();
tracingChannel<string, { query: string }>('mysql2:query').subscribe({
  start(ctx) {
    if (!counting) return;
    const kind = ctx.query.replace(/\s+/g, ' ').split(' (')[0]?.slice(0, 50) ?? '?';
    statements.set(kind, (statements.get(kind) ?? 0) + 1);
    started.set(ctx, performance.now());
  },
  end() {},
  asyncStart(ctx) {
    const t = started.get(ctx);
    if (t === undefined) return;
    roundTrips = { n: roundTrips.n + 1, ms: roundTrips.ms + performance.now() - t };
  },
  asyncEnd() {},
  error() {},
});
/** CPU seconds (user + system) a process has used so far, from /proc. */
const cpuOf = (pid: string): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
const serverPid = process.env.BENCH_MYSQLD_PID;
const messageUrl = process.env.BENCH_PUSH_ROUTE === 'message';
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
  kind: messageUrl ? 'component' : 'official',
  token: 'benchtoken',
  encodingAesKey: ENCODING_AES_KEY,
  forward: forward === 'forward' ? [{ url: sinkUrl }] : [],
});
const hub = await createTestHub(target, { apps: [app], poolSize: 10 });
const deps = createDeps({ ...hub.deps, log: discardingLog() });
const server = await listen(createHubApp(deps), 0, discardingLog(), '127.0.0.1');
const now = Math.floor(hub.sim.sim.clock.now() / 1000);
const key = aesKeyOf(ENCODING_AES_KEY);
const route = messageUrl
  ? `/wx/${app.name}/component/message/wxbenchauthorizer01`
  : `/wx/${app.name}/callback`;
const pool = Array.from({ length: 60_000 }, (_, i) => {
  const signed = signPush({
    app: app.name,
    token: 'benchtoken',
    message: `<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[o-bench]]></FromUserName><CreateTime>${now}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[message ${i}]]></Content><MsgId>${now}${String(i).padStart(8, '0')}</MsgId></xml>`,
    timestamp: now,
    nonce: String(100_000 + i),
    encrypt: { aesKey: key, appId: app.appId, format: 'xml' },
  });
  return { ...signed, path: signed.path.replace(`/wx/${app.name}/callback`, route) };
});
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
const before = {
  used,
  cpu: process.cpuUsage(),
  server: serverPid === undefined ? 0 : cpuOf(serverPid),
};
counting = true;
const rate = await load(Number(seconds) * 1000);
counting = false;
const cpu = process.cpuUsage(before.cpu);
const serverCpu = serverPid === undefined ? 0 : cpuOf(serverPid) - before.server;
const { profile } = await session.post('Profiler.stop');
writeFileSync(out, JSON.stringify(profile));
const pushes = used - before.used;
console.log(`${which}: ${Math.round(rate)} pushes/s, ${used} sent; profile in ${out}`);
const perPush = (ms: number) => `${(ms / pushes).toFixed(3)} ms`;
console.log(
  `CPU per push: this process ${perPush((cpu.user + cpu.system) / 1000)}` +
    (serverPid === undefined ? '' : `, database server ${perPush(serverCpu * 1000)}`),
);
if (statements.size > 0) {
  const total = [...statements.values()].reduce((a, b) => a + b, 0);
  console.log(
    `statements per push: ${(total / pushes).toFixed(2)}, ` +
      `mean round trip ${(roundTrips.ms / roundTrips.n).toFixed(2)} ms`,
  );
  for (const [kind, n] of [...statements].sort((a, b) => b[1] - a[1])) {
    console.log(`  ${(n / pushes).toFixed(3)}  ${kind}`);
  }
}
await server.close(1_000);
await hub.close();
sink.close();
cleanup();
