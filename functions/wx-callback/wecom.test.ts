import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/http/log';
import { listen, type RunningServer } from '../../shared/platform/server';
import { testTargets } from '../../shared/store/testing';
import {
  aesKeyOf,
  decryptMessage,
  encryptMessage,
  wechatSignature,
} from '../../shared/wechat/message-crypto';
import { parseXml } from '../../shared/wechat/xml';
import { createTestHub, type TestHub, testWecomApp } from '../testing';
import { startTarget } from './testing';

// WeCom's published callback example: the samples (Sample.cs, sample.py, …) of WeCom's official
// WXBizMsgCrypt library, linked from https://developer.work.weixin.qq.com/document/path/91144:
// URL verification and one push.
const VECTOR = {
  token: 'QDG6eK',
  corpId: 'wx5823bf96d3bd56c7',
  encodingAesKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
  verify: {
    query:
      'msg_signature=5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3&timestamp=1409659589&nonce=263014780&echostr=P9nAzCzyDtyTWESHep1vC5X9xho%2FqYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp%2B4RPcs8TgAE7OaBO%2BFZXvnaqQ%3D%3D',
    timestamp: 1409659589,
    plaintext: '1616140317555161061',
  },
  push: {
    query:
      'msg_signature=477715d11cdb4164915debcba66cb864d751f3e6&timestamp=1409659813&nonce=1372623149',
    timestamp: 1409659813,
    body: '<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA[RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>',
    // What the push decrypts to, as the samples print it.
    message:
      '<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>\n<FromUserName><![CDATA[mycreate]]></FromUserName>\n<CreateTime>1409659813</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[hello]]></Content>\n<MsgId>4561255354251345929</MsgId>\n<AgentID>218</AgentID>\n</xml>',
  },
};

describe.each(testTargets())('WeCom callbacks on $name', (target) => {
  const vectorApp = testWecomApp({
    appId: VECTOR.corpId,
    agentId: 218,
    token: VECTOR.token,
    encodingAesKey: VECTOR.encodingAesKey,
  });
  let hub: TestHub;
  beforeAll(async () => {
    hub = await createTestHub(target, { apps: [vectorApp] });
  });
  afterAll(() => hub.close());

  const at = (seconds: number) => hub.sim.sim.clock.set(seconds * 1000);
  const url = (q: string) => `/wx/${vectorApp.name}/callback?${q}`;
  const post = (q: string, body: string) => hub.app.request(url(q), { method: 'POST', body });
  const count = () => hub.deps.store.messages.count(vectorApp.name);

  it("GET URL verification answers WeCom's published echostr plaintext byte for byte", async () => {
    at(VECTOR.verify.timestamp);
    const res = await hub.app.request(url(VECTOR.verify.query));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(VECTOR.verify.plaintext);
    // The same with echostr's `+`, `/` and `=` sent unescaped (a `+` then reads as a space).
    const raw = decodeURIComponent(VECTOR.verify.query);
    expect(raw).toContain('+');
    const unescaped = await hub.app.request(url(raw));
    expect(await unescaped.text()).toBe(VECTOR.verify.plaintext);
  });

  it('GET URL verification with a wrong msg_signature is 401 and echoes nothing', async () => {
    at(VECTOR.verify.timestamp);
    const q = VECTOR.verify.query.replace('msg_signature=5c45', 'msg_signature=0000');
    const res = await hub.app.request(url(q));
    expect(res.status).toBe(401);
    expect(await res.text()).not.toContain(VECTOR.verify.plaintext);
    // A plain `signature` (WeChat's form) is no WeCom signature.
    const wechatForm = url(
      `signature=${wechatSignature(VECTOR.token, '1409659589', '263014780')}&timestamp=1409659589&nonce=263014780&echostr=x`,
    );
    expect((await hub.app.request(wechatForm)).status).toBe(401);
  });

  it("stores WeCom's published push, decrypted byte for byte, and answers success", async () => {
    at(VECTOR.push.timestamp);
    const res = await post(VECTOR.push.query, VECTOR.push.body);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('success');
    const row = await hub.deps.store.messages.get(vectorApp.name, 'msg:4561255354251345929');
    expect(row).toMatchObject({
      format: 'xml',
      encrypted: true,
      raw: VECTOR.push.body,
      msgType: 'text',
      fromUser: 'mycreate',
      toUser: VECTOR.corpId,
    });
    expect(row?.parsed).toMatchObject({ Content: 'hello', MsgId: '4561255354251345929' });
    // WeCom's retry of the same push: answered alike, stored once.
    const again = await post(VECTOR.push.query, VECTOR.push.body);
    expect(await again.text()).toBe('success');
    expect(await count()).toBe(1);
  });

  it('a push with a wrong msg_signature is 401 and nothing is stored', async () => {
    at(VECTOR.push.timestamp);
    const before = await count();
    const bad = VECTOR.push.query.replace('msg_signature=4777', 'msg_signature=0000');
    const res = await post(bad, VECTOR.push.body.replace('4561255354251345929', '1'));
    expect(res.status).toBe(401);
    expect(await count()).toBe(before);
  });

  it('a push encrypted for another ReceiveId (corp) is 400 and nothing is stored', async () => {
    const now = VECTOR.push.timestamp + 60;
    at(now);
    const before = await count();
    const message = VECTOR.push.message.replace('4561255354251345929', '4561255354251345930');
    const encrypt = encryptMessage(aesKeyOf(VECTOR.encodingAesKey), message, 'wwanothercorp0001');
    const sig = wechatSignature(VECTOR.token, String(now), '42', encrypt);
    const res = await post(
      `msg_signature=${sig}&timestamp=${now}&nonce=42`,
      `<xml><ToUserName><![CDATA[${VECTOR.corpId}]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>`,
    );
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('cannot decrypt');
    expect(await count()).toBe(before);
  });

  it('a plaintext push (no Encrypt), even correctly signed, is refused and nothing is stored', async () => {
    const now = VECTOR.push.timestamp + 120;
    at(now);
    const before = await count();
    const sig = wechatSignature(VECTOR.token, String(now), '43');
    const plain = VECTOR.push.message.replace('4561255354251345929', '4561255354251345931');
    for (const q of [
      `signature=${sig}&timestamp=${now}&nonce=43`,
      `signature=${sig}&timestamp=${now}&nonce=43&encrypt_type=raw&msg_signature=${sig}`,
    ]) {
      const res = await post(q, plain);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
    expect(await count()).toBe(before);
  });
});

describe.each(testTargets())('WeCom callbacks from the simulator over HTTP on $name', (target) => {
  const key = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
  const app = testWecomApp({ token: 'WecomToken1', encodingAesKey: key });
  let hub: TestHub;
  let server: RunningServer;
  let forward: Awaited<ReturnType<typeof startTarget>>;
  beforeAll(async () => {
    forward = await startTarget();
    hub = await createTestHub(target, { apps: [{ ...app, forward: [{ url: forward.url }] }] });
    server = await listen(hub.app, 0, createLogger('silent'), '127.0.0.1');
  });
  afterAll(async () => {
    await server.close();
    await hub.close();
    await forward.close();
  });
  const callbackUrl = () => `${server.url}/wx/${app.name}/callback`;

  it('WeCom accepts the URL: the hub answers the decrypted echostr', async () => {
    const r = await hub.sim.sim.wecom.verifyUrl(app.appId, callbackUrl());
    expect(r).toMatchObject({ ok: true, status: 200 });
  });

  it('a push is stored, forwarded, and the first passive reply goes back encrypted for the corp', async () => {
    forward.reply = { reply: { MsgType: 'text', Content: '收到' } };
    const createTime = Math.floor(hub.sim.sim.clock.now() / 1000);
    const message = `<xml><ToUserName><![CDATA[${app.appId}]]></ToUserName><FromUserName><![CDATA[lisi]]></FromUserName><CreateTime>${createTime}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好]]></Content><MsgId>9007199254740993123</MsgId><AgentID>1000002</AgentID></xml>`;
    const r = await hub.sim.sim.wecom.push(app.appId, callbackUrl(), message);
    expect(r.status).toBe(200);
    const envelope = parseXml(r.body);
    const { Encrypt, MsgSignature, TimeStamp, Nonce } = envelope as Record<string, string>;
    expect(MsgSignature).toBe(
      wechatSignature('WecomToken1', String(TimeStamp), String(Nonce), Encrypt ?? ''),
    );
    // Opened with the corp id as ReceiveId (decryptMessage checks it).
    const reply = parseXml(decryptMessage(aesKeyOf(key), Encrypt ?? '', app.appId));
    expect(reply).toMatchObject({
      ToUserName: 'lisi',
      FromUserName: app.appId,
      MsgType: 'text',
      Content: '收到',
    });
    expect(forward.received).toHaveLength(1);
    // The 64-bit MsgId is forwarded exactly.
    expect(forward.received[0]?.text).toContain('"MsgId":"9007199254740993123"');
    expect(await hub.deps.store.messages.count(app.name)).toBe(1);
  });
});

describe.each(testTargets())('WeCom callbacks behind a trusted x-wx-source on $name', (target) => {
  it('a WeCom app still needs its signature: CloudRun delivers WeChat pushes only', async () => {
    const app = testWecomApp({ token: 'WecomToken2', encodingAesKey: 'F'.repeat(43) });
    const hub = await createTestHub(target, {
      apps: [app],
      env: { WXHUB_TRUST_WX_SOURCE: '1' },
    });
    try {
      const now = Math.floor(hub.sim.sim.clock.now() / 1000);
      const plain = `<xml><ToUserName><![CDATA[${app.appId}]]></ToUserName><FromUserName><![CDATA[u]]></FromUserName><CreateTime>${now}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[x]]></Content><MsgId>1</MsgId></xml>`;
      const res = await hub.app.request(`/wx/${app.name}/callback`, {
        method: 'POST',
        body: plain,
        headers: { 'x-wx-source': 'wx-cloudrun' },
      });
      expect(res.status).toBe(401);
      expect(await hub.deps.store.messages.count(app.name)).toBe(0);
    } finally {
      await hub.close();
    }
  });
});
