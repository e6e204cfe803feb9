import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testTargets } from '../shared/store/testing';
import { aesKeyOf, encryptMessage, wechatSignature } from '../shared/wechat/message-crypto';
import {
  merchantKeyPair,
  newPublicKey,
  resign,
  signNotification,
  testMerchant,
  transactionResource,
} from './pay-notify/testing';
import { createTestHub, type TestHub, testApp } from './testing';
import { signPush, startTarget } from './wx-callback/testing';

/**
 * Generated attacks on every WeChat-facing route: mutations of valid requests, replays with
 * other bodies, downgrades, oversized and deeply nested bodies. None may be stored, none may
 * answer 5xx, and memory must come back to where it was.
 */
const CASES_PER_ROUTE = 1_200;
/** The first cases of each route, sent before memory is measured. */
const WARM_UP_CASES = 600;
/**
 * Most growth of retained memory (MiB) over the measured cases (about 1,700 refused requests,
 * some 200 MiB of bodies): keeping each refused request grew it by about 300 MiB when tried,
 * keeping 2.4 KiB of each by 4.5–4.9; without a leak it moves by about ±1.
 */
const LEAK_MIB = 4;

/** A small deterministic generator, so a failure names a case that can be run again. */
function prng(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  return { int, pick };
}
type Rand = ReturnType<typeof prng>;

/**
 * What the process keeps alive after a full garbage collection: the V8 heap in use plus the
 * memory of live buffers (bodies read as Buffers live outside the heap). What a leak would grow,
 * unlike RSS, which the allocator, freed-but-kept pages and other workers move by tens of MiB.
 */
function retainedBytes(): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

const ALPHABET = 'AZaz09+/=<>&;"\'\\{}[]:,\u0000\u00e9\u4e2d\ud83d\ude00 \n';

/** One random edit of `text`: flip, insert, delete, truncate or duplicate a slice. */
function mutate(r: Rand, text: string): string {
  const at = r.int(text.length + 1);
  switch (r.int(6)) {
    case 0:
      return text.slice(0, at) + r.pick([...ALPHABET]) + text.slice(at + 1);
    case 1:
      return text.slice(0, at) + r.pick([...ALPHABET]) + text.slice(at);
    case 2:
      return text.slice(0, at) + text.slice(at + 1 + r.int(8));
    case 3:
      return text.slice(0, at);
    case 4: {
      const from = r.int(text.length);
      return text.slice(0, at) + text.slice(from, from + 1 + r.int(40)) + text.slice(at);
    }
    default:
      return `${text.slice(0, at)}&#${r.int(0x10ffff)};${text.slice(at)}`;
  }
}

const deepJson = (n: number) => `{"MsgType":"event","x":${'['.repeat(n)}${']'.repeat(n)}}`;
const deepXml = (n: number) => `<xml>${'<a>'.repeat(n)}x${'</a>'.repeat(n)}</xml>`;

describe.each(testTargets())('WeChat-facing routes under generated attacks on $name', (target) => {
  const key = 'FuzzKey0123456789abcdefghijklmnopqrstuvwxyz';
  const aesKey = aesKeyOf(key);
  const safeOa = testApp({ token: 'fuzzsafe', encodingAesKey: key });
  const compatMp = testApp({
    kind: 'miniprogram',
    token: 'fuzzcompat',
    encodingAesKey: key,
    messageMode: 'compatible',
  });
  const plainOa = testApp({ token: 'fuzzplain' });
  const apps = [safeOa, compatMp, plainOa];
  const pubKey = newPublicKey();
  const merchant = testMerchant(merchantKeyPair().privateKeyPem, [pubKey]);
  let hub: TestHub;
  let target_: Awaited<ReturnType<typeof startTarget>>;
  const now = 1_790_000_000;
  const statuses = new Map<string, Map<number, number>>();

  beforeAll(async () => {
    target_ = await startTarget();
    // Every stored push or notification leaves a delivery row: a down target keeps them pending.
    target_.mode = 'down';
    for (const a of apps) a.forward = [{ url: target_.url }];
    merchant.forward = [{ url: target_.url }];
    hub = await createTestHub(target, { apps });
    await hub.deps.store.merchants.upsert(merchant, 'file', now * 1000);
    hub.sim.sim.clock.set(now * 1000);
  });
  afterAll(async () => {
    await hub.close();
    await target_.close();
  });

  const send = async (route: string, path: string, init: RequestInit) => {
    const res = await hub.app.request(path, init);
    await res.arrayBuffer();
    const seen = statuses.get(route) ?? new Map<number, number>();
    seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
    statuses.set(route, seen);
    return res.status;
  };
  const stored = async () => {
    const counts = await Promise.all(apps.map((a) => hub.deps.store.messages.count(a.name)));
    const pay = await hub.deps.store.outbox.list({ owner: merchant.name });
    return { messages: counts, pay: pay.length };
  };
  const event = (n: number) =>
    `<xml><ToUserName><![CDATA[gh_f]]></ToUserName><FromUserName><![CDATA[o-fuzz-${n}]]></FromUserName><CreateTime>${now}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event></xml>`;

  it('stores nothing, answers no 5xx and keeps memory flat', async () => {
    // One genuine delivery per route first: its signature and body are what the attacks reuse.
    const genuine = [
      signPush({
        app: safeOa.name,
        token: 'fuzzsafe',
        message: event(1),
        timestamp: now,
        nonce: '11',
        encrypt: { aesKey, appId: safeOa.appId, format: 'xml' },
      }),
      signPush({
        app: compatMp.name,
        token: 'fuzzcompat',
        message: `{"ToUserName":"gh_f","FromUserName":"o-fuzz-2","CreateTime":${now},"MsgType":"text","Content":"hi","MsgId":23456789012345678}`,
        timestamp: now,
        nonce: '12',
        encrypt: { aesKey, appId: compatMp.appId, format: 'json' },
      }),
      signPush({
        app: plainOa.name,
        token: 'fuzzplain',
        message: event(3),
        timestamp: now,
        nonce: '13',
      }),
    ];
    for (const p of genuine)
      expect(await send('genuine', p.path, { method: 'POST', body: p.body })).toBe(200);
    const notification = signNotification({
      key: pubKey,
      apiV3Key: merchant.apiV3Key,
      resource: transactionResource(merchant.mchId),
      timestamp: now,
    });
    const payPath = `/pay/${merchant.name}/notify`;
    expect(
      await send('genuine', payPath, {
        method: 'POST',
        headers: notification.headers,
        body: notification.body,
      }),
    ).toBe(204);
    const baseline = await stored();
    expect(baseline).toEqual({ messages: [1, 1, 1], pay: 1 });
    const r = prng(20261130);
    // Cases `from` to `to` of each route, in turn.
    const attack = async (from: number, to: number) => {
      // POST /wx/{app}/callback
      for (let i = from; i < to; i++) {
        const g = r.pick(genuine);
        const app = apps[genuine.indexOf(g)] ?? safeOa;
        const token = app.token ?? '';
        let path = g.path;
        let body = g.body;
        switch (r.int(7)) {
          case 0: // the body mutated, the signed query kept
            for (let k = 0, n = 1 + r.int(4); k < n; k++) body = mutate(r, body);
            if (body === g.body) body += ' ';
            break;
          case 1: // the query mutated
            path = path.slice(0, path.indexOf('?')) + mutate(r, path.slice(path.indexOf('?')));
            if (path === g.path) path += '&x';
            break;
          case 2: // a replay: the signed query with another well-formed body
            body = event(1_000 + i);
            break;
          case 3: {
            // a downgrade: a correctly signed plaintext push to the safe-mode app
            const p = signPush({
              app: safeOa.name,
              token: 'fuzzsafe',
              message: event(2_000 + i),
              timestamp: now,
              nonce: `d${i}`,
            });
            path = p.path;
            body = p.body;
            break;
          }
          case 4: // oversized
            body = g.body.replace('</xml>', `<Pad>${'x'.repeat(1_048_577)}</Pad></xml>`);
            if (body === g.body) body = `${g.body.slice(0, -1)},"Pad":"${'x'.repeat(1_048_577)}"}`;
            break;
          case 5: {
            // deeply nested, correctly signed (and encrypted where the app is in safe mode)
            const deep = r.int(2) === 0 ? deepJson(65 + r.int(5_000)) : deepXml(17 + r.int(200));
            const p = signPush({
              app: app.name,
              token,
              message: deep,
              timestamp: now,
              nonce: `n${i}`,
              ...(app === safeOa
                ? { encrypt: { aesKey, appId: app.appId, format: 'xml' as const } }
                : {}),
            });
            path = p.path;
            body = p.body;
            break;
          }
          default: {
            // encrypted garbage under a valid msg_signature
            const junk = encryptMessage(
              aesKey,
              mutate(r, event(3_000 + i)).slice(0, 40),
              app.appId,
            );
            const ts = String(now);
            const nonce = `e${i}`;
            path = `/wx/${app.name}/callback?signature=${wechatSignature(token, ts, nonce)}&timestamp=${ts}&nonce=${nonce}&encrypt_type=aes&msg_signature=${wechatSignature(token, ts, nonce, junk)}`;
            body = `<xml><ToUserName><![CDATA[gh_f]]></ToUserName><Encrypt><![CDATA[${junk}]]></Encrypt></xml>`;
            if (app === plainOa) path = path.replace('encrypt_type=aes', 'encrypt_type=zzz');
          }
        }
        const status = await send('POST callback', path, { method: 'POST', body });
        // A 200 is WeChat's retry of the genuine push (an unsigned query field changed): answered
        // as before, nothing stored anew.
        if (status >= 500) {
          throw new Error(
            `POST case ${i}: ${status} for ${path.slice(0, 200)} ${body.slice(0, 200)}`,
          );
        }
      }

      // GET /wx/{app}/callback (server verification)
      for (let i = from; i < to; i++) {
        const app = r.pick(apps);
        const ts = String(now);
        const nonce = `v${i}`;
        let q = `signature=${wechatSignature(app.token ?? '', ts, nonce)}&timestamp=${ts}&nonce=${nonce}&echostr=e${i}`;
        for (let k = 0, n = 1 + r.int(3); k < n; k++) q = mutate(r, q);
        const status = await send('GET callback', `/wx/${app.name}/callback?${q}`, {
          method: 'GET',
        });
        if (status >= 500) throw new Error(`GET case ${i}: ${status} for ${q}`);
      }

      // POST /pay/{merchant}/notify
      for (let i = from; i < to; i++) {
        let n = notification;
        switch (r.int(5)) {
          case 0: // the body mutated, the signature kept: a replay with another body
            n = { ...n, body: mutate(r, n.body) };
            if (n.body === notification.body) n = { ...n, body: `${n.body} ` };
            break;
          case 1: {
            // a header mutated
            const name = r.pick(Object.keys(n.headers));
            // Header values travel as printable ASCII over HTTP.
            const value = mutate(r, n.headers[name] ?? '').replace(/[^\x20-\x7e]/g, 'x');
            n = { ...n, headers: { ...n.headers, [name]: value } };
            if (n.headers[name] === notification.headers[name])
              n.headers[name] = `${n.headers[name]}x`;
            break;
          }
          case 2: // deeply nested, correctly signed
            n = resign(n, pubKey, deepJson(65 + r.int(5_000)));
            break;
          case 3: // oversized
            n = { ...n, body: `${n.body.slice(0, -1)},"pad":"${'x'.repeat(1_048_577)}"}` };
            break;
          default: // a signature probe over a changed body
            n = resign(n, pubKey, mutate(r, n.body));
            n.headers['wechatpay-signature'] =
              `WECHATPAY/SIGNTEST/${n.headers['wechatpay-signature']}`;
        }
        const status = await send('POST pay notify', payPath, {
          method: 'POST',
          headers: n.headers,
          body: n.body,
        });
        if (status >= 500) throw new Error(`pay case ${i}: ${status} for ${n.body.slice(0, 200)}`);
      }
    };

    // The first cases warm up what the process keeps anyway (compiled code, statement caches,
    // pooled connections); what the rest leave behind is what a leak would grow.
    await attack(0, WARM_UP_CASES);
    const retainedBefore = retainedBytes();
    await attack(WARM_UP_CASES, CASES_PER_ROUTE);
    expect(await stored()).toEqual(baseline);
    const grown = (retainedBytes() - retainedBefore) / 1024 / 1024;
    expect(grown, `retained memory grew ${grown.toFixed(2)} MiB over the run`).toBeLessThan(
      LEAK_MIB,
    );
    for (const route of ['POST callback', 'GET callback', 'POST pay notify']) {
      const seen = statuses.get(route) ?? new Map<number, number>();
      const total = [...seen.values()].reduce((a, b) => a + b, 0);
      expect(total).toBe(CASES_PER_ROUTE);
      expect([...seen.keys()].every((s) => s < 500)).toBe(true);
    }
    // 3,600 requests: several such files on a shared 2-core machine take longer than the default.
  }, 120_000);
});
