import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { drainOutbox } from '../../shared/callbacks/forward';
import type { AppConfig, MerchantConfig } from '../../shared/config';
import { aesKeyOf } from '../../shared/wechat/message-crypto';
import {
  merchantKeyPair,
  newPublicKey,
  signNotification,
  testMerchant,
  transactionResource,
} from '../pay-notify/testing';
import { AUTH, type TestHub } from '../testing';
import { signPush, startTarget } from '../wx-callback/testing';

/**
 * Debian's Chromium (`WXHUB_CHROMIUM`, which .ci/run sets, else /usr/bin/chromium), started
 * headless by playwright-core. No browser is downloaded; a machine without one fails the test.
 */
export async function launchChromium(): Promise<Browser> {
  const executablePath = process.env.WXHUB_CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(
      `no Chromium at ${executablePath}: run \`bash .ci/chromium.sh\` (installs Debian's chromium) ` +
        'or set WXHUB_CHROMIUM to its path',
    );
  }
  return chromium.launch({
    executablePath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

const HOUR = 3_600_000;

/** Two accounts of a coffee chain, as an operator would name them. */
export function consoleApps(): { oa: AppConfig; mp: AppConfig } {
  return {
    oa: {
      name: 'coffee-oa',
      kind: 'official',
      appId: 'wxc0ffee0a11ce0001',
      appSecret: 'seeded-secret-of-coffee-oa-0001',
      token: 'coffeeoatoken',
      encodingAesKey: 'C0ffeeC0ffeeC0ffeeC0ffeeC0ffeeC0ffeeC0ffee1',
      tokenMode: 'stable',
      forward: [],
    },
    mp: {
      name: 'coffee-mp',
      kind: 'miniprogram',
      appId: 'wxc0ffee0b0b0b0002',
      appSecret: 'seeded-secret-of-coffee-mp-0002',
      token: 'coffeemptoken',
      tokenMode: 'classic',
      forward: [],
    },
  };
}

export interface SeededConsole {
  /** The forward target that was down for the seeded dead delivery (switch it `up`). */
  crm: Awaited<ReturnType<typeof startTarget>>;
  /** The forward target that takes every push. */
  warehouse: Awaited<ReturnType<typeof startTarget>>;
  /** Who sent the push whose delivery is dead. */
  deadOpenid: string;
  merchant: MerchantConfig;
  close(): Promise<void>;
}

/** An openid as WeChat writes them (28 characters), the same for the same follower. */
const openid = (follower: number) =>
  `o${createHash('sha256').update(`follower-${follower}`).digest('base64url').slice(0, 27)}`;

const TEXTS = ['Is the oat latte back?', 'Opening hours today?', '多少钱?', 'Order #1042 status'];

/**
 * A day of traffic, written through the hub's own routes on the simulator's clock: the last
 * 22 hours of pushes to both apps (more by day than by night), pay notifications, token
 * refreshes, and one push whose forward target stayed down until its delivery went dead. The
 * clock ends at the real time, so the console's "5 min ago" is true.
 */
export async function seedConsole(hub: TestHub): Promise<SeededConsole> {
  const { oa, mp } = consoleApps();
  const clock = hub.sim.sim.clock;
  const warehouse = await startTarget();
  const crm = await startTarget();
  crm.mode = 'down';
  const deadOpenid = openid(42);
  const withForward: AppConfig = {
    ...oa,
    forward: [{ url: warehouse.url }, { url: crm.url, match: { Event: 'unsubscribe' } }],
  };
  await hub.deps.store.apps.upsert(withForward, 'file', clock.now());
  await hub.deps.store.apps.upsert(
    { ...mp, forward: [{ url: warehouse.url }] },
    'file',
    clock.now(),
  );
  const key = newPublicKey();
  const merchant = testMerchant(merchantKeyPair().privateKeyPem, [key], { name: 'coffee-pay' });
  await hub.deps.store.merchants.upsert(merchant, 'file', clock.now());

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    hub.app.request(path, { method: 'POST', body, headers });
  const end = Date.now();
  let n = 0;
  for (let hour = 0; hour < 22; hour++) {
    const start = end - (22 - hour) * HOUR;
    clock.set(start);
    // Busier in the daytime: a smooth day curve with a little noise.
    const local = new Date(start).getHours();
    const busy = Math.round(3 + 6 * Math.max(0, Math.sin(((local - 6) / 16) * Math.PI)));
    const count = busy + (hour % 3);
    for (let i = 0; i < count; i++) {
      n += 1;
      clock.set(start + Math.floor(((i + 0.5) * HOUR) / count));
      const ts = Math.floor(clock.now() / 1000);
      const who = openid(n % 17);
      const text = TEXTS[n % TEXTS.length] ?? '';
      const message =
        n % 4 === 0
          ? `<xml><ToUserName>gh_c0ffee</ToUserName><FromUserName>${who}</FromUserName><CreateTime>${ts}</CreateTime><MsgType>event</MsgType><Event>${n % 8 === 0 ? 'subscribe' : 'CLICK'}</Event><EventKey>MENU_ORDER</EventKey></xml>`
          : `<xml><ToUserName>gh_c0ffee</ToUserName><FromUserName>${who}</FromUserName><CreateTime>${ts}</CreateTime><MsgType>text</MsgType><Content>${text}</Content><MsgId>${7_000_000 + n}</MsgId></xml>`;
      const toOa = n % 3 !== 0;
      const push = toOa
        ? signPush({
            app: oa.name,
            token: oa.token ?? '',
            message,
            timestamp: ts,
            nonce: String(100000 + n),
            encrypt: { aesKey: aesKeyOf(oa.encodingAesKey ?? ''), appId: oa.appId, format: 'xml' },
          })
        : signPush({
            app: mp.name,
            token: mp.token ?? '',
            message,
            timestamp: ts,
            nonce: String(100000 + n),
          });
      const res = await post(push.path, push.body);
      if (res.status !== 200) throw new Error(`seeding a push answered ${res.status}`);
    }
    if (hour === 2) {
      const ts = Math.floor(clock.now() / 1000);
      const push = signPush({
        app: oa.name,
        token: oa.token ?? '',
        message: `<xml><ToUserName>gh_c0ffee</ToUserName><FromUserName>${deadOpenid}</FromUserName><CreateTime>${ts}</CreateTime><MsgType>event</MsgType><Event>unsubscribe</Event></xml>`,
        timestamp: ts,
        nonce: '424242',
        encrypt: { aesKey: aesKeyOf(oa.encodingAesKey ?? ''), appId: oa.appId, format: 'xml' },
      });
      const res = await post(push.path, push.body);
      if (res.status !== 200) throw new Error(`seeding the dead push answered ${res.status}`);
    }
    for (let i = 0; i < Math.ceil(busy / 3); i++) {
      const ts = Math.floor(clock.now() / 1000);
      const note = signNotification({
        key,
        apiV3Key: merchant.apiV3Key,
        resource: transactionResource(merchant.mchId, `COFFEE-${hour}-${i}`),
        timestamp: ts,
      });
      const res = await post(`/pay/${merchant.name}/notify`, note.body, note.headers);
      if (res.status !== 204) throw new Error(`seeding a pay notification answered ${res.status}`);
    }
    // Tokens as callers ask for them: fetched again when the cached one is past its window.
    for (const a of [oa, mp]) {
      const res = await hub.app.request(`/v1/apps/${a.name}/token`, { headers: AUTH });
      if (res.status !== 200) throw new Error(`seeding a token answered ${res.status}`);
    }
    clock.set(start + HOUR - 1000);
    await drainOutbox(hub.deps, { owner: oa.name });
  }
  clock.set(Date.now());
  return {
    crm,
    warehouse,
    deadOpenid,
    merchant,
    async close() {
      await crm.close();
      await warehouse.close();
    },
  };
}
