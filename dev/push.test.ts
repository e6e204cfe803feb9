import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestHub, type TestHub, testApp } from '../functions/testing';
import { startTarget } from '../functions/wx-callback/testing';
import type { AppConfig } from '../shared/config';
import { testTargets } from '../shared/store/testing';
import { pickApp, runPush, sendPush } from './push';

const AES = 'B'.repeat(43);

describe.each(testTargets())('npm run push against a hub, on $name', (db) => {
  let hub: TestHub;
  let target: Awaited<ReturnType<typeof startTarget>>;
  let mp: AppConfig;
  let oa: AppConfig;
  let both: AppConfig;
  const send = (app: AppConfig, extra: Partial<Parameters<typeof sendPush>[0]> = {}) =>
    sendPush({
      hub: 'http://hub.test',
      app,
      message: { text: 'ping' },
      now: () => hub.deps.clock.now(),
      fetch: (input, init) => Promise.resolve(hub.app.request(String(input), init)),
      ...extra,
    });

  beforeAll(async () => {
    target = await startTarget();
    target.reply = { reply: { MsgType: 'text', Content: 'pong' } };
    const forward = [{ url: target.url }];
    mp = testApp({ kind: 'miniprogram', token: 'MpToken1', encodingAesKey: AES, forward });
    oa = testApp({ token: 'OaToken1', forward });
    both = testApp({ token: 'CpToken1', encodingAesKey: AES, messageMode: 'compatible', forward });
    hub = await createTestHub(db, { apps: [mp, oa, both] });
  });
  afterAll(async () => {
    await hub.close();
    await target.close();
  });

  it('sends a safe-mode JSON push the hub accepts, and opens the encrypted reply', async () => {
    const r = await send(mp, { format: 'json', message: { text: 'hello 你好' } });
    expect(r).toMatchObject({ status: 200, sent: 'encrypted' });
    expect(JSON.parse(r.body)).toHaveProperty('Encrypt');
    expect(r.reply?.signatureOk).toBe(true);
    expect(JSON.parse(r.reply?.text ?? '{}')).toMatchObject({ MsgType: 'text', Content: 'pong' });
    const got = target.received.at(-1)?.body as {
      app: string;
      encrypted: boolean;
      message: object;
    };
    expect(got).toMatchObject({
      app: mp.name,
      encrypted: true,
      message: { MsgType: 'text', Content: 'hello 你好', FromUserName: 'o-push-demo' },
    });
  });

  it('sends plaintext for a plain app and encrypts for a compatible one', async () => {
    const plain = await send(oa, { message: { event: 'subscribe' } });
    expect(plain).toMatchObject({ status: 200, sent: 'plain' });
    expect(plain.reply).toBeUndefined();
    expect(plain.body).toContain('<Content><![CDATA[pong]]></Content>');
    expect(target.received.at(-1)?.body).toMatchObject({
      app: oa.name,
      message: { MsgType: 'event', Event: 'subscribe' },
    });
    const compat = await send(both);
    expect(compat).toMatchObject({ status: 200, sent: 'encrypted' });
    expect(compat.reply?.text).toContain('<Content><![CDATA[pong]]></Content>');
  });

  it('names the apps it can push to when the app is unknown or has no token', async () => {
    const file = { apps: [oa, testApp({ name: 'no-token' })], merchants: [] };
    expect(pickApp(file, undefined).name).toBe(oa.name);
    expect(() => pickApp(file, 'nope')).toThrow(
      `no app "nope" in the apps file (apps with a token: ${oa.name})`,
    );
    expect(() => pickApp(file, 'no-token')).toThrow('app "no-token" has no token');
    const out: string[] = [];
    expect(await runPush(['--bogus'], {}, (t) => void out.push(t))).toBe(2);
    expect(out.join('')).toContain('usage: npm run push --');
  });
});
