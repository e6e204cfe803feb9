import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drainOutbox } from '../../shared/callbacks/forward';
import { testTargets } from '../../shared/store/testing';
import {
  aesKeyOf,
  decryptMessage,
  encryptMessage,
  wechatSignature,
} from '../../shared/wechat/message-crypto';
import { parseXml } from '../../shared/wechat/xml';
import { AUTH, createTestHub, type TestHub, testApp } from '../testing';
import { signPush, startTarget } from './testing';

// The official Mini Program example of
// https://developers.weixin.qq.com/miniprogram/dev/framework/server-ability/message-push.html.
const EXAMPLE = {
  token: 'AAAAA',
  encodingAesKey: 'A'.repeat(43),
  appId: 'wxba5fad812f8e6fb9',
  encrypt:
    '+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05JCpj0JB4RvQMkUyus8TPxLKJGQqcvZqzDpVzazhZv6JsXUnnR8XGT740XgXZUXQ7vJVnAG+tE8NUd4yFyjPy7GgiaviNrlCTj+l5kdfMuFUPpRSrfMZuMcp3Fn2Pede2IuQrKEYwKSqFIZoNqJ4M8EajAsjLY2km32IIjdf8YL/P50F7mStwntrA2cPDrM1kb6mOcfBgRtWygb3VIYnSeOBrebufAlr7F9mFUPAJGj04=',
};
const KEY = aesKeyOf(EXAMPLE.encodingAesKey);

describe.each(testTargets())('wx-callback on $name', (target) => {
  // The official example's app receives plaintext and encrypted pushes: compatible mode.
  const mp = testApp({
    kind: 'miniprogram',
    appId: EXAMPLE.appId,
    token: EXAMPLE.token,
    encodingAesKey: EXAMPLE.encodingAesKey,
    messageMode: 'compatible',
  });
  const oaKey = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
  const oa = testApp({ token: 'oatoken123', encodingAesKey: oaKey, messageMode: 'compatible' });
  let hub: TestHub;
  beforeAll(async () => {
    hub = await createTestHub(target, { apps: [mp, oa] });
  });
  afterAll(() => hub.close());

  const at = (seconds: number) => hub.sim.sim.clock.set(seconds * 1000);
  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    hub.app.request(path, { method: 'POST', body, headers });
  const count = (app: string) => hub.deps.store.messages.count(app);

  it('answers server verification with echostr, and 401 with nothing echoed otherwise', async () => {
    at(1714036504);
    const base = `/wx/${mp.name}/callback?timestamp=1714036504&nonce=1514711492&echostr=4375120948345356249`;
    const ok = await hub.app.request(`${base}&signature=f464b24fc39322e44b38aa78f5edd27bd1441696`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('4375120948345356249');
    const bad = await hub.app.request(`${base}&signature=${'0'.repeat(40)}`);
    expect(bad.status).toBe(401);
    expect(await bad.text()).not.toContain('4375120948345356249');
    at(1714036504 + 301);
    const stale = await hub.app.request(
      `${base}&signature=f464b24fc39322e44b38aa78f5edd27bd1441696`,
    );
    expect(stale.status).toBe(401);
    expect(await stale.text()).toContain('at most 300 s');
  });

  it('stores the official plaintext JSON push and answers success', async () => {
    at(1714037059);
    const message =
      '{"ToUserName":"gh_97417a04a28d","FromUserName":"o9AgO5Kd5ggOC-bXrbNODIiE3bGY","CreateTime":1714037059,"MsgType":"event","Event":"debug_demo","debug_str":"hello world"}';
    const res = await post(
      `/wx/${mp.name}/callback?signature=899cf89e464efb63f54ddac96b0a0a235f53aa78&timestamp=1714037059&nonce=486452656`,
      message,
    );
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('success');
    const row = await hub.deps.store.messages.get(
      mp.name,
      'evt:o9AgO5Kd5ggOC-bXrbNODIiE3bGY:1714037059:debug_demo',
    );
    expect(row).toMatchObject({
      format: 'json',
      encrypted: false,
      raw: message,
      msgType: 'event',
      event: 'debug_demo',
      fromUser: 'o9AgO5Kd5ggOC-bXrbNODIiE3bGY',
      toUser: 'gh_97417a04a28d',
      createTime: 1714037059,
      parsed: { debug_str: 'hello world' },
      reply: 'success',
    });
  });

  it('stores the official safe-mode push, decrypted', async () => {
    at(1714112445);
    const body = JSON.stringify({ ToUserName: 'gh_97417a04a28d', Encrypt: EXAMPLE.encrypt });
    const res = await post(
      `/wx/${mp.name}/callback?signature=6c5c811b55cc85e0e1b54100749188c20beb3f5d&timestamp=1714112445&nonce=415670741&openid=o9AgO5Kd5ggOC-bXrbNODIiE3bGY&encrypt_type=aes&msg_signature=046e02f8204d34f8ba5fa3b1db94908f3df2e9b3`,
      body,
    );
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('success');
    const row = await hub.deps.store.messages.get(
      mp.name,
      'evt:o9AgO5Kd5ggOC-bXrbNODIiE3bGY:1714112445:debug_demo',
    );
    expect(row).toMatchObject({ encrypted: true, raw: body, parsed: { debug_str: 'hello world' } });
  });

  it('stores an XML safe-mode push of an official account (own vectors)', async () => {
    const now = Math.floor(Date.now() / 1000);
    at(now);
    const message = `<xml><ToUserName><![CDATA[gh_oa]]></ToUserName><FromUserName><![CDATA[o-reader]]></FromUserName><CreateTime>${now}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好 <b>]]></Content><MsgId>2324${now}</MsgId></xml>`;
    const push = signPush({
      app: oa.name,
      token: 'oatoken123',
      message,
      timestamp: now,
      encrypt: { aesKey: aesKeyOf(oaKey), appId: oa.appId, format: 'xml' },
    });
    const res = await post(push.path, push.body, { 'content-type': 'text/xml' });
    expect(await res.text()).toBe('success');
    expect(await hub.deps.store.messages.get(oa.name, `msg:2324${now}`)).toMatchObject({
      format: 'xml',
      encrypted: true,
      msgType: 'text',
      msgId: `2324${now}`,
      parsed: { Content: '你好 <b>' },
    });
  });

  describe('bad input leaves the tables unchanged', () => {
    const now = 1_760_000_000;
    const message = (id: string) =>
      `<xml><ToUserName><![CDATA[gh_oa]]></ToUserName><FromUserName><![CDATA[o-x]]></FromUserName><CreateTime>${now}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[x]]></Content><MsgId>${id}</MsgId></xml>`;
    const signedRaw = (encrypted: string) => {
      const ts = String(now);
      const nonce = '42';
      return {
        path: `/wx/${oa.name}/callback?signature=${wechatSignature('oatoken123', ts, nonce)}&timestamp=${ts}&nonce=${nonce}&encrypt_type=aes&msg_signature=${wechatSignature('oatoken123', ts, nonce, encrypted)}`,
        body: `<xml><ToUserName><![CDATA[gh_oa]]></ToUserName><Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>`,
      };
    };
    const valid = () =>
      signPush({
        app: oa.name,
        token: 'oatoken123',
        message: message('1'),
        timestamp: now,
        encrypt: { aesKey: aesKeyOf(oaKey), appId: oa.appId, format: 'xml' },
      });

    const cases: [
      string,
      () => { path: string; body: string; headers?: Record<string, string> },
      number,
      string,
    ][] = [
      [
        'wrong signature (plaintext)',
        () => {
          const p = signPush({
            app: oa.name,
            token: 'not-the-token',
            message: message('2'),
            timestamp: now,
          });
          return p;
        },
        401,
        'signature does not match',
      ],
      [
        'wrong msg_signature',
        () => {
          const p = valid();
          return {
            ...p,
            path: p.path.replace(/msg_signature=[0-9a-f]+/, `msg_signature=${'1'.repeat(40)}`),
          };
        },
        401,
        'msg_signature does not match',
      ],
      [
        'tampered ciphertext, signature kept',
        () => {
          const p = valid();
          return {
            ...p,
            body: p.body.replace(
              /<Encrypt><!\[CDATA\[(.)/,
              (_m, ch: string) => `<Encrypt><![CDATA[${ch === 'A' ? 'B' : 'A'}`,
            ),
          };
        },
        401,
        'msg_signature does not match',
      ],
      [
        'tampered ciphertext, re-signed',
        () => {
          const good = encryptMessage(aesKeyOf(oaKey), message('3'), oa.appId);
          const bytes = Buffer.from(good, 'base64');
          bytes[20] = (bytes[20] ?? 0) ^ 0xff;
          return signedRaw(bytes.toString('base64'));
        },
        400,
        'cannot decrypt',
      ],
      [
        'bad padding',
        () => signedRaw(Buffer.alloc(64, 7).toString('base64')),
        400,
        'cannot decrypt',
      ],
      [
        'wrong trailing appid',
        () => signedRaw(encryptMessage(aesKeyOf(oaKey), message('4'), 'wx9999999999999999')),
        400,
        'another appid',
      ],
      [
        'stale timestamp',
        () => {
          const p = signPush({
            app: oa.name,
            token: 'oatoken123',
            message: message('5'),
            timestamp: now - 3_600,
          });
          return p;
        },
        401,
        'from now',
      ],
      [
        'malformed XML',
        () =>
          signPush({
            app: oa.name,
            token: 'oatoken123',
            message: '<xml><MsgType>text</xml>',
            timestamp: now,
          }),
        400,
        'not valid XML',
      ],
      [
        'malformed JSON',
        () =>
          signPush({
            app: oa.name,
            token: 'oatoken123',
            message: '{"MsgType": "text",',
            timestamp: now,
          }),
        400,
        'not valid JSON',
      ],
      [
        'neither XML nor JSON',
        () => signPush({ app: oa.name, token: 'oatoken123', message: 'hello', timestamp: now }),
        400,
        'must be XML or a JSON object',
      ],
      [
        'malformed decrypted message',
        () => signedRaw(encryptMessage(aesKeyOf(oaKey), '<xml><a></xml>', oa.appId)),
        400,
        'decrypted message is not valid XML',
      ],
      [
        'x-wx-source when not trusted',
        () => ({
          path: `/wx/${oa.name}/callback`,
          body: message('6'),
          headers: { 'x-wx-source': 'wxcloudrun' },
        }),
        401,
        'WXHUB_TRUST_WX_SOURCE=1',
      ],
      [
        'missing signature',
        () => ({ path: `/wx/${oa.name}/callback`, body: message('7') }),
        401,
        'missing signature',
      ],
    ];

    it.each(cases)('%s', async (_name, build, status, text) => {
      at(now);
      const before = await count(oa.name);
      const r = build();
      const res = await post(r.path, r.body, r.headers ?? {});
      expect(res.status).toBe(status);
      expect(await res.text()).toContain(text);
      expect(await count(oa.name)).toBe(before);
    });

    it('answers 404 for an unknown app and 413 for an oversized body', async () => {
      at(now);
      const res = await post('/wx/no-such-app/callback?signature=x&timestamp=1&nonce=1', '<xml/>');
      expect(res.status).toBe(404);
      const before = await count(oa.name);
      const p = valid();
      const big = await post(
        p.path,
        p.body.replace('</xml>', `<Pad>${'x'.repeat(1_100_000)}</Pad></xml>`),
      );
      expect(big.status).toBe(413);
      expect(await count(oa.name)).toBe(before);
    });

    it('survives 1,000 random mutations of a valid safe-mode push: no 5xx, nothing stored', async () => {
      at(now);
      const before = await count(oa.name);
      let seed = 20261121;
      const rand = (n: number) => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed % n;
      };
      const alphabet =
        'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=<>&;"\'\u0000é中';
      const base = valid();
      const encrypted = /<Encrypt><!\[CDATA\[([^\]]+)\]\]>/.exec(base.body)?.[1] ?? '';
      const statuses = new Map<number, number>();
      for (let i = 0; i < 1_000; i++) {
        let { path, body } = base;
        switch (rand(6)) {
          case 0: {
            const at = rand(encrypted.length);
            const ch = alphabet[rand(alphabet.length)] ?? 'A';
            const mutated = `${encrypted.slice(0, at)}${ch === encrypted[at] ? '.' : ch}${encrypted.slice(at + 1)}`;
            body = body.replace(encrypted, mutated);
            break;
          }
          case 1:
            path = path.replace(/msg_signature=([0-9a-f]+)/, (_m, s: string) => {
              const at = rand(s.length);
              return `msg_signature=${s.slice(0, at)}${s[at] === 'f' ? '0' : 'f'}${s.slice(at + 1)}`;
            });
            break;
          case 2:
            path = path.replace(
              /timestamp=(\d+)/,
              (_m, t: string) => `timestamp=${Number(t) + 1 + rand(1_000)}`,
            );
            break;
          case 3:
            path = path.replace(/nonce=(\d+)/, (_m, n: string) => `nonce=${n}${rand(10)}`);
            break;
          case 4:
            body = body.slice(0, rand(body.length - 7));
            break;
          default:
            body = body.replace(encrypted, encrypted.slice(0, rand(encrypted.length)));
        }
        const res = await post(path, body);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        expect(res.status, `mutation ${i}`).toBeLessThan(500);
        expect(res.status, `mutation ${i}`).not.toBe(200);
      }
      expect(await count(oa.name)).toBe(before);
      expect([...statuses.keys()].sort()).toEqual([400, 401]);
    });
  });

  it('stores a push delivered 3 times concurrently once, and answers all three alike', async () => {
    const t = await startTarget();
    t.reply = { reply: { MsgType: 'text', Content: '收到' } };
    const app = testApp({
      token: 'duptoken',
      encodingAesKey: oaKey,
      forward: [{ url: t.url }],
    });
    await hub.deps.store.apps.upsert(app, 'file', hub.deps.clock.now());
    try {
      const now = Math.floor(Date.now() / 1000);
      at(now);
      const message = `<xml><ToUserName><![CDATA[gh_dup]]></ToUserName><FromUserName><![CDATA[o-dup]]></FromUserName><CreateTime>${now}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content><MsgId>77${now}</MsgId></xml>`;
      const push = signPush({
        app: app.name,
        token: 'duptoken',
        message,
        timestamp: now,
        encrypt: { aesKey: aesKeyOf(oaKey), appId: app.appId, format: 'xml' },
      });
      const answers = await Promise.all([1, 2, 3].map(() => post(push.path, push.body)));
      const bodies = await Promise.all(answers.map((a) => a.text()));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
      expect(new Set(bodies).size).toBe(1);
      expect(await count(app.name)).toBe(1);
      expect(t.received).toHaveLength(1);
      // The one answer is a valid encrypted passive reply.
      const envelope = parseXml(bodies[0] ?? '');
      const { Encrypt, MsgSignature, TimeStamp, Nonce } = envelope as Record<string, string>;
      expect(MsgSignature).toBe(
        wechatSignature('duptoken', TimeStamp ?? '', Nonce ?? '', Encrypt ?? ''),
      );
      const reply = parseXml(decryptMessage(aesKeyOf(oaKey), Encrypt ?? '', app.appId));
      expect(reply).toEqual({
        ToUserName: 'o-dup',
        FromUserName: 'gh_dup',
        CreateTime: String(now),
        MsgType: 'text',
        Content: '收到',
      });
    } finally {
      await t.close();
    }
  });

  it('replies in JSON to the official JSON safe-mode push, decryptable with the same key', async () => {
    const t = await startTarget();
    t.reply = { reply: { MsgType: 'transfer_customer_service' } };
    const app = testApp({
      kind: 'miniprogram',
      appId: EXAMPLE.appId,
      token: EXAMPLE.token,
      encodingAesKey: EXAMPLE.encodingAesKey,
      forward: [{ url: t.url, match: { MsgType: 'event' } }],
    });
    await hub.deps.store.apps.upsert(app, 'file', hub.deps.clock.now());
    try {
      at(1714112445);
      const res = await post(
        `/wx/${app.name}/callback?signature=6c5c811b55cc85e0e1b54100749188c20beb3f5d&timestamp=1714112445&nonce=415670741&encrypt_type=aes&msg_signature=046e02f8204d34f8ba5fa3b1db94908f3df2e9b3`,
        JSON.stringify({ ToUserName: 'gh_97417a04a28d', Encrypt: EXAMPLE.encrypt }),
      );
      expect(res.headers.get('content-type')).toBe('application/json');
      const envelope = (await res.json()) as {
        Encrypt: string;
        MsgSignature: string;
        TimeStamp: number;
        Nonce: string;
      };
      expect(typeof envelope.TimeStamp).toBe('number');
      expect(envelope.MsgSignature).toBe(
        wechatSignature(
          EXAMPLE.token,
          String(envelope.TimeStamp),
          envelope.Nonce,
          envelope.Encrypt,
        ),
      );
      expect(JSON.parse(decryptMessage(KEY, envelope.Encrypt, EXAMPLE.appId))).toEqual({
        ToUserName: 'o9AgO5Kd5ggOC-bXrbNODIiE3bGY',
        FromUserName: 'gh_97417a04a28d',
        CreateTime: 1714112445,
        MsgType: 'transfer_customer_service',
      });
      expect(t.received[0]?.body).toMatchObject({
        app: app.name,
        appId: EXAMPLE.appId,
        format: 'json',
        encrypted: true,
        message: { Event: 'debug_demo', debug_str: 'hello world' },
      });
    } finally {
      await t.close();
    }
  });

  it('keeps a push for a target that is down and delivers it once the target is back', async () => {
    const t = await startTarget();
    t.mode = 'down';
    const app = testApp({
      token: 'fwdtoken',
      forward: [{ url: t.url, match: { MsgType: ['text', 'image'] } }],
    });
    await hub.deps.store.apps.upsert(app, 'file', hub.deps.clock.now());
    try {
      const now = Math.floor(Date.now() / 1000);
      at(now);
      const push = signPush({
        app: app.name,
        token: 'fwdtoken',
        message: `<xml><FromUserName>o-f</FromUserName><CreateTime>${now}</CreateTime><MsgType>text</MsgType><MsgId>88${now}</MsgId></xml>`,
        timestamp: now,
      });
      expect(await (await post(push.path, push.body)).text()).toBe('success');
      const [pending] = await hub.deps.store.outbox.list({ owner: app.name });
      expect(pending).toMatchObject({ status: 'pending', attempts: 1, lastError: 'HTTP 503' });
      // Not due yet: the drain leaves it alone.
      expect(await drainOutbox(hub.deps, { owner: app.name })).toEqual({
        delivered: 0,
        retrying: 0,
        dead: 0,
      });
      t.mode = 'up';
      hub.sim.sim.clock.advance(31_000);
      expect(await drainOutbox(hub.deps, { owner: app.name })).toEqual({
        delivered: 1,
        retrying: 0,
        dead: 0,
      });
      expect(t.received).toHaveLength(1);
      expect(t.received[0]?.idempotencyKey).toBe(pending?.idempotencyKey);
      expect(t.received[0]?.body).toMatchObject({
        message: { MsgType: 'text', MsgId: `88${now}` },
      });
      const [done] = await hub.deps.store.outbox.list({ owner: app.name });
      expect(done).toMatchObject({ status: 'delivered', attempts: 2 });
    } finally {
      await t.close();
    }
  });

  it('marks a delivery dead after its attempts and keeps it visible', async () => {
    const t = await startTarget();
    t.mode = 'down';
    const app = testApp({ token: 'deadtoken', forward: [{ url: t.url }] });
    await hub.deps.store.apps.upsert(app, 'file', hub.deps.clock.now());
    try {
      const now = Math.floor(Date.now() / 1000);
      at(now);
      const push = signPush({
        app: app.name,
        token: 'deadtoken',
        message: `{"FromUserName":"o-d","CreateTime":${now},"MsgType":"event","Event":"subscribe"}`,
        timestamp: now,
      });
      expect((await post(push.path, push.body)).status).toBe(200);
      const outcomes = [];
      for (let i = 0; i < 12; i++) {
        hub.sim.sim.clock.advance(3_600_000);
        outcomes.push(await drainOutbox(hub.deps, { owner: app.name }));
      }
      expect(outcomes.reduce((n, o) => n + o.dead, 0)).toBe(1);
      const [dead] = await hub.deps.store.outbox.list({ owner: app.name });
      expect(dead).toMatchObject({ status: 'dead', attempts: 10, lastError: 'HTTP 503' });
      expect(t.received).toHaveLength(0);
      const listed = await hub.app.request(`/v1/outbox?status=dead&app=${app.name}`, {
        headers: AUTH,
      });
      expect(await listed.json()).toEqual({
        deliveries: [
          {
            id: dead?.id,
            app: app.name,
            source: 'message',
            target: t.url,
            status: 'dead',
            attempts: 10,
            maxAttempts: 10,
            lastError: 'HTTP 503',
            nextAttemptAt: expect.any(String),
          },
        ],
      });
      expect((await hub.app.request('/v1/outbox?status=lost', { headers: AUTH })).status).toBe(400);
      expect((await hub.app.request('/v1/outbox')).status).toBe(401);
    } finally {
      await t.close();
    }
  });

  it('answers 503 (so WeChat retries), never success, when the push cannot be stored', async () => {
    const app = testApp({ token: 'downtoken' });
    const down = await createTestHub(target, { apps: [app], sim: hub.sim });
    const now = Math.floor(Date.now() / 1000);
    at(now);
    const push = (id: string) =>
      signPush({
        app: app.name,
        token: 'downtoken',
        message: `<xml><FromUserName>o-z</FromUserName><CreateTime>${now}</CreateTime><MsgType>text</MsgType><MsgId>${id}</MsgId></xml>`,
        timestamp: now,
      });
    // The first push stores (and caches the app); then the database goes away.
    const first = push(`91${now}`);
    expect(
      await (await down.app.request(first.path, { method: 'POST', body: first.body })).text(),
    ).toBe('success');
    await down.close();
    const second = push(`92${now}`);
    const res = await down.app.request(second.path, { method: 'POST', body: second.body });
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('could not be stored');
  });

  it('accepts CloudRun pushes only with x-wx-source trusted, and answers the path check', async () => {
    const trusted = await createTestHub(target, {
      apps: [],
      env: { WXHUB_TRUST_WX_SOURCE: '1' },
      sim: hub.sim,
    });
    try {
      const now = Math.floor(Date.now() / 1000);
      at(now);
      const check = await trusted.app.request(`/wx/${oa.name}/callback`, {
        method: 'POST',
        headers: { 'x-wx-sources': 'wxcloudrun', 'content-type': 'application/json' },
        body: '{"action":"CheckContainerPath"}',
      });
      expect(await check.text()).toBe('success');
      const before = await count(oa.name);
      const push = await trusted.app.request(`/wx/${oa.name}/callback`, {
        method: 'POST',
        headers: { 'x-wx-source': 'wxcloudrun' },
        body: `{"ToUserName":"gh_oa","FromUserName":"o-c","CreateTime":${now},"MsgType":"text","Content":"cloud","MsgId":"cr-${now}"}`,
      });
      expect(await push.text()).toBe('success');
      expect(await count(oa.name)).toBe(before + 1);
      expect(await trusted.deps.store.messages.get(oa.name, `msg:cr-${now}`)).toMatchObject({
        encrypted: false,
        parsed: { Content: 'cloud' },
      });
    } finally {
      await trusted.close();
    }
  });

  it('takes an empty or blank x-wx-source for no header: no CloudRun push, no way past the signature', async () => {
    const trusted = await createTestHub(target, {
      apps: [],
      env: { WXHUB_TRUST_WX_SOURCE: '1' },
      sim: hub.sim,
    });
    try {
      const blanks: Record<string, string>[] = [
        { 'x-wx-source': '' },
        { 'x-wx-source': '   ' },
        { 'x-wx-sources': '\t' },
        { 'x-wx-source': ' ', 'x-wx-sources': '' },
      ];
      for (const headers of blanks) {
        const res = await trusted.app.request(`/wx/${oa.name}/callback`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: '{"action":"CheckContainerPath"}',
        });
        expect([headers, res.status]).toEqual([headers, 401]);
        expect(await res.text()).not.toBe('success');
      }
    } finally {
      await trusted.close();
    }
  });
});
