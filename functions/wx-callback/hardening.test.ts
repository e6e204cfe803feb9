import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { purgeExpired } from '../../shared/callbacks/forward';
import { SIGNATURE_GRACE_MS } from '../../shared/store';
import { testTargets } from '../../shared/store/testing';
import { numberText } from '../../shared/wechat/exact-json';
import { aesKeyOf, encryptMessage, wechatSignature } from '../../shared/wechat/message-crypto';
import { createTestHub, type TestHub, testApp } from '../testing';
import { signPush, startTarget } from './testing';

// Message modes, replay protection, exact 64-bit ids and verify-before-parse on the push route.
describe.each(testTargets())('wx-callback hardening on $name', (target) => {
  const key = 'Hardening0123456789abcdefghijklmnopqrstuvwx';
  const aesKey = aesKeyOf(key);
  let t: Awaited<ReturnType<typeof startTarget>>;
  // A mini program without an AES key (plain by default), forwarding everything.
  const plainMp = testApp({ kind: 'miniprogram', token: 'plaintoken' });
  // An official account with an AES key: safe by default.
  const safeOa = testApp({ token: 'safetoken', encodingAesKey: key });
  // The same, explicitly compatible.
  const compatOa = testApp({
    token: 'compattoken',
    encodingAesKey: key,
    messageMode: 'compatible',
  });
  let hub: TestHub;
  const now = 1_780_000_000;

  beforeAll(async () => {
    t = await startTarget();
    plainMp.forward = [{ url: t.url }];
    hub = await createTestHub(target, { apps: [plainMp, safeOa, compatOa] });
    hub.sim.sim.clock.set(now * 1000);
  });
  afterAll(async () => {
    await hub.close();
    await t.close();
  });

  const post = (path: string, body: string) =>
    hub.app.request(path, { method: 'POST', body, headers: { 'content-type': 'text/xml' } });
  const count = (app: string) => hub.deps.store.messages.count(app);
  const event = (from: string, ev: string, ts = now) =>
    `<xml><ToUserName><![CDATA[gh_x]]></ToUserName><FromUserName><![CDATA[${from}]]></FromUserName><CreateTime>${ts}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[${ev}]]></Event></xml>`;

  it('resolves each app’s message mode: safe with an AES key, plain without, as configured', async () => {
    expect((await hub.deps.store.apps.get(plainMp.name))?.messageMode).toBe('plain');
    expect((await hub.deps.store.apps.get(safeOa.name))?.messageMode).toBe('safe');
    expect((await hub.deps.store.apps.get(compatOa.name))?.messageMode).toBe('compatible');
  });

  it('stores and forwards two JSON pushes whose 64-bit MsgIds differ only in the last digit', async () => {
    const before = t.received.length;
    for (const [id, nonce] of [
      ['23456789012345112', '101'],
      ['23456789012345113', '102'],
    ] as const) {
      const message = `{"ToUserName":"gh_x","FromUserName":"o-big","CreateTime":${now},"MsgType":"text","Content":"n${id.slice(-1)}","MsgId":${id}}`;
      const p = signPush({
        app: plainMp.name,
        token: 'plaintoken',
        message,
        timestamp: now,
        nonce,
      });
      const res = await post(p.path, p.body);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('success');
    }
    const first = await hub.deps.store.messages.get(plainMp.name, 'msg:23456789012345112');
    const second = await hub.deps.store.messages.get(plainMp.name, 'msg:23456789012345113');
    expect(first?.msgId).toBe('23456789012345112');
    expect(second?.msgId).toBe('23456789012345113');
    expect(numberText(second?.parsed.MsgId)).toBe('23456789012345113');
    expect(second?.parsed.Content).toBe('n3');
    const sent = t.received.slice(before).map((r) => r.text);
    expect(sent).toHaveLength(2);
    expect(sent[0]).toContain('"MsgId":23456789012345112');
    expect(sent[1]).toContain('"MsgId":23456789012345113');
  });

  it('reads a 64-bit MsgId exactly in an encrypted JSON push too', async () => {
    const message = `{"ToUserName":"gh_x","FromUserName":"o-enc","CreateTime":${now},"MsgType":"text","Content":"e","MsgId":18446744073709551615}`;
    const p = signPush({
      app: compatOa.name,
      token: 'compattoken',
      message,
      timestamp: now,
      nonce: '103',
      encrypt: { aesKey, appId: compatOa.appId, format: 'json' },
    });
    expect((await post(p.path, p.body)).status).toBe(200);
    const row = await hub.deps.store.messages.get(compatOa.name, 'msg:18446744073709551615');
    expect(row?.msgId).toBe('18446744073709551615');
  });

  it('relays a forward target’s JSON reply with its 64-bit numbers unrounded', async () => {
    t.reply = '{"reply":{"MsgType":"text","Content":"ok","Ref":23456789012345679}}';
    try {
      const message = `{"ToUserName":"gh_x","FromUserName":"o-reply","CreateTime":${now},"MsgType":"text","Content":"r","MsgId":1001}`;
      const p = signPush({
        app: plainMp.name,
        token: 'plaintoken',
        message,
        timestamp: now,
        nonce: '104',
      });
      const res = await post(p.path, p.body);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('"Ref":23456789012345679');
    } finally {
      t.reply = undefined;
    }
  });

  it('refuses a plaintext push to a safe-mode app, even correctly signed: 401, nothing stored', async () => {
    const before = await count(safeOa.name);
    const p = signPush({
      app: safeOa.name,
      token: 'safetoken',
      message: event('o-down', 'subscribe'),
      timestamp: now,
    });
    const res = await post(p.path, p.body);
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('safe message mode');
    expect(await count(safeOa.name)).toBe(before);
    const enc = signPush({
      app: safeOa.name,
      token: 'safetoken',
      message: event('o-down', 'subscribe'),
      timestamp: now,
      encrypt: { aesKey, appId: safeOa.appId, format: 'xml' },
    });
    expect((await post(enc.path, enc.body)).status).toBe(200);
    expect(await count(safeOa.name)).toBe(before + 1);
  });

  it('refuses a used plaintext signature with another body, and answers WeChat’s retry as before', async () => {
    const real = signPush({
      app: plainMp.name,
      token: 'plaintoken',
      message: event('o-real', 'subscribe'),
      timestamp: now,
      nonce: '201',
    });
    expect(await (await post(real.path, real.body)).text()).toBe('success');
    const before = await count(plainMp.name);
    const delivered = t.received.length;
    // A forged event under the same URL, taking the dedup key of an event yet to come.
    const forged = await post(real.path, event('o-victim', 'unsubscribe'));
    expect(forged.status).toBe(401);
    expect(await forged.text()).toContain('already used with another body');
    expect(await count(plainMp.name)).toBe(before);
    expect(t.received.length).toBe(delivered);
    // WeChat's retry of the real push: same body, same answer, nothing new stored.
    const retry = await post(real.path, real.body);
    expect(retry.status).toBe(200);
    expect(await retry.text()).toBe('success');
    expect(await count(plainMp.name)).toBe(before);
    // The genuine event the forgery tried to pre-empt is stored and forwarded.
    const genuine = signPush({
      app: plainMp.name,
      token: 'plaintoken',
      message: event('o-victim', 'unsubscribe'),
      timestamp: now,
      nonce: '202',
    });
    expect((await post(genuine.path, genuine.body)).status).toBe(200);
    expect(await count(plainMp.name)).toBe(before + 1);
    expect(t.received.length).toBe(delivered + 1);
  });

  it('refuses a used msg_signature with another outer body (same Encrypt): 401', async () => {
    const p = signPush({
      app: compatOa.name,
      token: 'compattoken',
      message: event('o-outer', 'subscribe'),
      timestamp: now,
      nonce: '301',
      encrypt: { aesKey, appId: compatOa.appId, format: 'xml' },
    });
    expect((await post(p.path, p.body)).status).toBe(200);
    const before = await count(compatOa.name);
    const changed = p.body.replace('<ToUserName>', '<Extra>1</Extra><ToUserName>');
    const res = await post(p.path, changed);
    expect(res.status).toBe(401);
    expect(await count(compatOa.name)).toBe(before);
  });

  it('refuses an encrypted push replayed as plaintext to a compatible app (encrypt_type dropped)', async () => {
    const p = signPush({
      app: compatOa.name,
      token: 'compattoken',
      message: event('o-strip', 'subscribe'),
      timestamp: now,
      nonce: '302',
      encrypt: { aesKey, appId: compatOa.appId, format: 'xml' },
    });
    expect((await post(p.path, p.body)).status).toBe(200);
    const before = await count(compatOa.name);
    const stripped = p.path.replace(/&encrypt_type=aes&msg_signature=[0-9a-f]+/, '');
    // The same bytes read as plaintext, and a forged plaintext body under the same URL.
    for (const body of [p.body, event('o-forged', 'subscribe')]) {
      const res = await post(stripped, body);
      expect(res.status).toBe(401);
      expect(await res.text()).toContain('already used with another body');
    }
    expect(await count(compatOa.name)).toBe(before);
  });

  it('answers pushes arriving together as one by one: new ones stored, a retry answered alike, a replay refused', async () => {
    const before = await count(safeOa.name);
    const pushes = [1, 2, 3, 4, 5].map((n) =>
      signPush({
        app: safeOa.name,
        token: 'safetoken',
        message: event(`o-together-${n}`, 'subscribe'),
        timestamp: now,
        nonce: String(400 + n),
        encrypt: { aesKey, appId: safeOa.appId, format: 'xml' },
      }),
    );
    const [first, second] = pushes;
    if (first === undefined || second === undefined) throw new Error('no pushes');
    // Another outer body under the second push's msg_signature (same Encrypt): a replay.
    const replay = second.body.replace('<ToUserName>', '<Extra>1</Extra><ToUserName>');
    // All at once (stored as one batch on MySQL): the pushes, WeChat's retry of the first one
    // among them, and the replay; the replay stores nothing.
    const answers = await Promise.all(
      [...pushes, first, { path: second.path, body: replay }].map(async (p) => {
        const res = await post(p.path, p.body);
        const text = await res.text();
        return `${res.status} ${text.includes('already used with another body') ? 'replay' : text}`;
      }),
    );
    // The second push and its replay race (as two deliveries would): whichever is stored first
    // is the push, the other the replay.
    const [, secondAnswer, ...rest] = answers;
    const replayAnswer = rest.pop();
    expect([secondAnswer, replayAnswer].sort()).toEqual(['200 success', '401 replay']);
    expect([answers[0], ...rest]).toEqual(Array(5).fill('200 success'));
    expect(await count(safeOa.name)).toBe(before + 5);
  });

  it('forgets used signatures a minute after their timestamp left the accepted skew', async () => {
    const clock = hub.sim.sim.clock;
    const p = signPush({
      app: plainMp.name,
      token: 'plaintoken',
      message: event('o-purge', 'subscribe'),
      timestamp: now,
      nonce: '401',
    });
    expect((await post(p.path, p.body)).status).toBe(200);
    clock.set((now + 299) * 1000);
    expect((await purgeExpired(hub.deps, 0)).signatures).toBe(0);
    // Out of the skew, but kept a minute more for a push accepted just before, still on its way.
    clock.set((now + 301) * 1000);
    expect((await purgeExpired(hub.deps, 0)).signatures).toBe(0);
    clock.set((now + 301) * 1000 + SIGNATURE_GRACE_MS);
    try {
      expect((await purgeExpired(hub.deps, 0)).signatures).toBeGreaterThan(0);
      // And the push itself is now refused by its timestamp, so nothing is lost by forgetting.
      expect((await post(p.path, event('o-late', 'subscribe'))).status).toBe(401);
    } finally {
      clock.set(now * 1000);
    }
  });

  it('checks msg_signature before parsing: a huge malformed body with a bad signature is a 401', async () => {
    const before = await count(safeOa.name);
    const body = `<xml><Encrypt><![CDATA[QUJD]]></Encrypt><Pad>${'&#x41;'.repeat(150_000)}<Unclosed></xml>`;
    const path = `/wx/${safeOa.name}/callback?timestamp=${now}&nonce=1&encrypt_type=aes&msg_signature=${'0'.repeat(40)}`;
    const res = await post(path, body);
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('msg_signature does not match');
    expect(await count(safeOa.name)).toBe(before);
  });

  it('refuses a body whose first Encrypt is signed but whose parsed Encrypt is another: 400', async () => {
    const good = encryptMessage(aesKey, event('o-two', 'subscribe'), safeOa.appId);
    const other = encryptMessage(aesKey, event('o-evil', 'subscribe'), safeOa.appId);
    const ts = String(now);
    const path = `/wx/${safeOa.name}/callback?timestamp=${ts}&nonce=501&encrypt_type=aes&msg_signature=${wechatSignature('safetoken', ts, '501', good)}`;
    const before = await count(safeOa.name);
    const json = `{"Encrypt":"${good}","Encrypt":"${other}"}`;
    const res = await post(path, json);
    expect(res.status).toBe(400);
    expect(await count(safeOa.name)).toBe(before);
  });

  it('answers 400, not 500, to deeply nested JSON with a valid signature', async () => {
    const before = await count(plainMp.name);
    const message = `{"MsgType":"event","Deep":${'['.repeat(50_000)}${']'.repeat(50_000)}}`;
    const p = signPush({
      app: plainMp.name,
      token: 'plaintoken',
      message,
      timestamp: now,
      nonce: '601',
    });
    const res = await post(p.path, p.body);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('nests deeper than 64 levels');
    expect(await count(plainMp.name)).toBe(before);
  });

  it('stores XML tags named __proto__, constructor and toString as sent', async () => {
    const message = `<xml><FromUserName><![CDATA[o-proto]]></FromUserName><CreateTime>${now}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[x]]></Event><__proto__><polluted>1</polluted></__proto__><constructor>c</constructor><toString>s</toString></xml>`;
    const p = signPush({
      app: plainMp.name,
      token: 'plaintoken',
      message,
      timestamp: now,
      nonce: '701',
    });
    const delivered = t.received.length;
    expect((await post(p.path, p.body)).status).toBe(200);
    const row = await hub.deps.store.messages.get(plainMp.name, `evt:o-proto:${now}:x`);
    const parsed = row?.parsed ?? {};
    expect(Object.hasOwn(parsed, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(parsed, '__proto__')?.value).toEqual({ polluted: '1' });
    expect(Object.getOwnPropertyDescriptor(parsed, 'constructor')?.value).toBe('c');
    expect(Object.getOwnPropertyDescriptor(parsed, 'toString')?.value).toBe('s');
    const sent = t.received[delivered]?.text ?? '';
    expect(sent).toContain('"__proto__":{"polluted":"1"},"constructor":"c","toString":"s"');
  });
});
