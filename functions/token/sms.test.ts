import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../dev/simulator';
import type { SmsSenderConfig } from '../../shared/config/signing-entries';
import { createLogger } from '../../shared/http/log';
import { rawTableText, testTargets, uniqueName } from '../../shared/store/testing';
import { AUTH, createTestHub, type TestHub } from '../testing';

const SMS_PATH = '/aliyun-sms/';

function sender(over: Partial<SmsSenderConfig> = {}): SmsSenderConfig {
  const name = uniqueName('sms');
  return {
    name,
    accessKeyId: `LTAI${name.replace(/[^a-z0-9]/g, '').slice(-16)}`,
    accessKeySecret: `secret-${name}`,
    signName: '阿里云短信测试',
    templateCode: 'SMS_154950909',
    codeParam: 'code',
    limits: { perMinute: 1, perHour: 5, perDay: 10 },
    ...over,
  };
}

let phoneSeq = 0;
const newPhone = () =>
  `139${String(Date.now() % 1e6).padStart(6, '0')}${String(phoneSeq++ % 100).padStart(2, '0')}`;

const post = (hub: TestHub, path: string, body: unknown) =>
  hub.app.request(path, {
    method: 'POST',
    headers: { ...AUTH, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe.each(testTargets())('SMS verification codes on $name', (target) => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim.close());

  const lastCode = (phone: string) => sim.sim.aliyunSms.messages(phone).at(-1)?.params.code;

  it('sends a V3-signed SendSms, verifies the code once, and stores neither phone nor code', async () => {
    const s = sender();
    const lines: string[] = [];
    const log = createLogger('info', { write: (l: string) => lines.push(l) });
    const hub = await createTestHub(target, { sms: [s], sim, log });
    try {
      const phone = newPhone();
      const sent = await post(hub, `/v1/sms/${s.name}/codes`, {
        phone: `+86${phone}`,
        scene: 'login',
      });
      expect(sent.status).toBe(200);
      expect(await sent.json()).toEqual({
        sent: true,
        expiresAt: new Date(sim.sim.clock.now() + 300_000).toISOString(),
      });
      const [msg] = sim.sim.aliyunSms.messages(phone);
      expect(msg).toMatchObject({ signName: s.signName, templateCode: s.templateCode });
      const code = msg?.params.code ?? '';
      expect(code).toMatch(/^\d{6}$/);

      const table = await rawTableText(hub.opened, 'sms_codes');
      expect(table).not.toContain(phone);
      expect(table).not.toContain(code);
      expect(lines.join('\n')).not.toContain(phone);
      expect(lines.join('\n')).toContain(`${phone.slice(0, 3)}****${phone.slice(-4)}`);

      // Another scene's code is not this one.
      const other = await post(hub, `/v1/sms/${s.name}/codes/verify`, {
        phone,
        scene: 'reset',
        code,
      });
      expect(other.status).toBe(400);
      const ok = await post(hub, `/v1/sms/${s.name}/codes/verify`, { phone, scene: 'login', code });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ valid: true });
      const again = await post(hub, `/v1/sms/${s.name}/codes/verify`, {
        phone,
        scene: 'login',
        code,
      });
      expect(again.status).toBe(400);
      expect(((await again.json()) as { error: { code: string } }).error.code).toBe('CODE_INVALID');
    } finally {
      await hub.close();
    }
  });

  it('the refresh pass deletes codes two days old', async () => {
    const s = sender();
    const hub = await createTestHub(target, { sms: [s], sim });
    try {
      const phone = newPhone();
      expect((await post(hub, `/v1/sms/${s.name}/codes`, { phone, scene: 'login' })).status).toBe(
        200,
      );
      expect(await rawTableText(hub.opened, 'sms_codes')).toContain(s.name);
      sim.sim.clock.advance(2 * 86_400_000 + 1_000);
      expect((await post(hub, '/v1/refresh', {})).status).toBe(200);
      expect(await rawTableText(hub.opened, 'sms_codes')).not.toContain(s.name);
    } finally {
      await hub.close();
    }
  });

  it('kills a code after 5 wrong tries', async () => {
    const s = sender();
    const hub = await createTestHub(target, { sms: [s], sim });
    try {
      const phone = newPhone();
      expect((await post(hub, `/v1/sms/${s.name}/codes`, { phone, scene: 'login' })).status).toBe(
        200,
      );
      const code = lastCode(phone) ?? '';
      const wrong = code === '000000' ? '111111' : '000000';
      for (let i = 0; i < 5; i++) {
        const r = await post(hub, `/v1/sms/${s.name}/codes/verify`, {
          phone,
          scene: 'login',
          code: wrong,
        });
        expect(r.status).toBe(400);
      }
      const late = await post(hub, `/v1/sms/${s.name}/codes/verify`, {
        phone,
        scene: 'login',
        code,
      });
      expect(late.status).toBe(400);
      expect(((await late.json()) as { error: { code: string } }).error.code).toBe('CODE_INVALID');
    } finally {
      await hub.close();
    }
  });

  it('holds the per-phone limits across 3 instances (database, not memory)', async () => {
    const s = sender();
    const hubs: TestHub[] = [];
    for (let i = 0; i < 3; i++)
      hubs.push(await createTestHub(target, { sms: [s], sim, instanceId: `sms-${i}` }));
    try {
      const phone = newPhone();
      const first = await Promise.all(
        Array.from({ length: 9 }, (_, i) =>
          post(hubs[i % 3] as TestHub, `/v1/sms/${s.name}/codes`, { phone, scene: `s${i % 2}` }),
        ),
      );
      const statuses = first.map((r) => r.status).sort();
      expect(statuses).toEqual([200, 429, 429, 429, 429, 429, 429, 429, 429]);
      expect(sim.sim.aliyunSms.messages(phone)).toHaveLength(1);
      const refused = first.find((r) => r.status === 429) ?? new Response('{}');
      expect(((await refused.json()) as { error?: { code: string } }).error?.code).toBe(
        'RATE_LIMITED',
      );

      // A minute apart, up to 5 an hour.
      for (let i = 1; i < 5; i++) {
        sim.sim.clock.advance(61_000);
        const r = await post(hubs[i % 3] as TestHub, `/v1/sms/${s.name}/codes`, {
          phone,
          scene: 'x',
        });
        expect(r.status).toBe(200);
      }
      sim.sim.clock.advance(61_000);
      const sixth = await post(hubs[0] as TestHub, `/v1/sms/${s.name}/codes`, {
        phone,
        scene: 'x',
      });
      expect(sixth.status).toBe(429);
      expect(((await sixth.json()) as { error: { message: string } }).error.message).toContain(
        'an hour',
      );
      expect(sim.sim.aliyunSms.messages(phone)).toHaveLength(5);
    } finally {
      await Promise.all(hubs.map((h) => h.close()));
    }
  });

  it('a wrong signature is refused by the simulator as Aliyun refuses it: 502, nothing sent', async () => {
    const s = sender();
    const hub = await createTestHub(target, { sms: [s], sim });
    try {
      sim.sim.aliyunSms.registerKey(s.accessKeyId, 'not-the-secret');
      const phone = newPhone();
      const r = await post(hub, `/v1/sms/${s.name}/codes`, { phone, scene: 'login' });
      expect(r.status).toBe(502);
      const body = (await r.json()) as { error: Record<string, unknown> };
      expect(body.error).toMatchObject({
        code: 'UPSTREAM_WECHAT',
        aliyunCode: 'SignatureDoesNotMatch',
      });
      expect(JSON.stringify(body)).not.toContain(s.accessKeySecret);
      expect(sim.sim.aliyunSms.messages(phone)).toHaveLength(0);
      // A refused send does not count: the next one (right key) goes out at once.
      sim.sim.aliyunSms.registerKey(s.accessKeyId, s.accessKeySecret);
      expect((await post(hub, `/v1/sms/${s.name}/codes`, { phone, scene: 'login' })).status).toBe(
        200,
      );
    } finally {
      await hub.close();
    }
  });

  it('never retries a timed-out SendSms: 504, one call, and the code (maybe delivered) still verifies', async () => {
    const s = sender();
    const hub = await createTestHub(target, { sms: [s], sim, wechatTimeoutMs: 150 });
    try {
      const phone = newPhone();
      const before = sim.sim.calls(SMS_PATH);
      sim.sim.injectFault({ path: SMS_PATH, delayMs: 400 });
      const r = await post(hub, `/v1/sms/${s.name}/codes`, { phone, scene: 'login' });
      expect(r.status).toBe(504);
      expect(sim.sim.calls(SMS_PATH)).toBe(before + 1);
      // Aliyun got it after all: the user's code works, and a resend inside the minute is refused.
      await new Promise((done) => setTimeout(done, 400));
      const code = lastCode(phone) ?? '';
      expect(code).toMatch(/^\d{6}$/);
      const resend = await post(hub, `/v1/sms/${s.name}/codes`, { phone, scene: 'login' });
      expect(resend.status).toBe(429);
      const ok = await post(hub, `/v1/sms/${s.name}/codes/verify`, { phone, scene: 'login', code });
      expect(ok.status).toBe(200);
    } finally {
      await hub.close();
    }
  });

  it('refuses bad input with 400 and an unknown sender with 404, sending nothing', async () => {
    const s = sender();
    const hub = await createTestHub(target, { sms: [s], sim });
    try {
      const before = sim.sim.calls(SMS_PATH);
      const cases: [string, unknown, number][] = [
        [`/v1/sms/${s.name}/codes`, { phone: 'abc', scene: 'login' }, 400],
        [`/v1/sms/${s.name}/codes`, { phone: '13900000000', scene: 'Bad Scene' }, 400],
        [`/v1/sms/${s.name}/codes`, { phone: '13900000000' }, 400],
        [`/v1/sms/${s.name}/codes/verify`, { phone: '13900000000', scene: 'x', code: '12ab' }, 400],
        ['/v1/sms/no-such-sender/codes', { phone: '13900000000', scene: 'login' }, 404],
      ];
      for (const [path, body, status] of cases)
        expect((await post(hub, path, body)).status).toBe(status);
      expect(sim.sim.calls(SMS_PATH)).toBe(before);
      const anon = await hub.app.request(`/v1/sms/${s.name}/codes`, { method: 'POST' });
      expect(anon.status).toBe(401);
    } finally {
      await hub.close();
    }
  });
});
