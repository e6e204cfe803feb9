import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createHubApp, refreshNow } from '../functions/index';
import {
  type AppConfig,
  type AppsFile,
  type DatabaseConfig,
  parseAppsFile,
} from '../shared/config';
import { describeDatabase } from '../shared/db/client';
import type { Logger } from '../shared/http/log';
import { type Hub, startHub } from '../shared/platform/main';
import { capabilityLines } from './capability-lines';
import { DEMO_CORP, startDemoSuites, suiteLines } from './demo-suite';
import {
  createLiveSimClock,
  createSimulator,
  type RunningSimulator,
  startSimulator,
} from './simulator';
import { type DemoTarget, startDemoTarget } from './target';

/** Merchant of the demo: keys made at start, known to the simulator (public-key mode). */
export const DEMO_MERCHANT = 'demo-pay';
/** The database of `npm run dev` when neither `DATABASE_URL` nor `MYSQL_ADDRESS` is set. */
export const DEV_DATABASE_URL = 'file:.data/dev.db';
/** Where the forward rules of dev/apps.example.json point; rewritten to the target's real port. */
const EXAMPLE_TARGET = 'http://127.0.0.1:3002';

/** `npm run dev`'s own database file, apart from `npm start`'s `.data/wxhub.db`. */
export function devDatabaseUrl(env: Record<string, string | undefined>): string | undefined {
  const set = (k: string) => env[k] !== undefined && env[k] !== '';
  return set('DATABASE_URL') || set('MYSQL_ADDRESS') ? env.DATABASE_URL : DEV_DATABASE_URL;
}

/**
 * The banner's database lines: the database, and the read replica the console's lists and
 * dashboard read when `DATABASE_READ_URL` is set (never a password).
 */
export function databaseLines(db: DatabaseConfig): string[] {
  if (db.dialect === 'sqlite') return [`database: sqlite (${db.path})`];
  const lines = [`database: mysql (${describeDatabase(db)})`];
  if (db.readUrl !== undefined) {
    const replica = describeDatabase({ dialect: 'mysql', url: db.readUrl });
    lines.push(
      `read replica: ${replica}, read by the console's lists and dashboard (falls back to the primary while it fails)`,
    );
  }
  return lines;
}

/** The demo component's two authorized accounts (example apps file only). */
export const DEMO_AUTHORIZERS = ['wxd0e0d00000000001', 'wxd0e0d00000000002'];

/**
 * The simulator plays WeChat for every component of the apps file: it pushes a ticket to the
 * hub's auth-event URL now (and every 10 minutes), and with the example file authorizes the demo
 * accounts through the `authorized` push, as an admin would. Returns what went wrong, if anything.
 */
async function startDemoComponents(
  file: AppsFile,
  sim: RunningSimulator,
  hubUrl: string,
  authorizers: readonly string[],
): Promise<string[]> {
  const problems: string[] = [];
  for (const app of file.apps) {
    if (app.kind !== 'component' || app.appSecret === undefined || app.token === undefined)
      continue;
    if (app.encodingAesKey === undefined) continue;
    try {
      sim.sim.registerComponent({
        appId: app.appId,
        secret: app.appSecret,
        token: app.token,
        encodingAesKey: app.encodingAesKey,
        eventUrl: `${hubUrl}/wx/${app.name}/component/event`,
        messageUrl: `${hubUrl}/wx/${app.name}/component/message/$APPID$`,
      });
      const ticket = await sim.sim.pushTicket(app.appId);
      if (ticket.body !== 'success') {
        problems.push(`${app.name}: the ticket push was answered ${ticket.status}`);
      }
      for (const id of authorizers) {
        const pushed = await sim.sim.authorize(app.appId, id);
        if (pushed.body !== 'success') {
          problems.push(`${app.name}: authorizing ${id} was answered ${pushed.status}`);
        }
      }
    } catch (err) {
      problems.push(`${app.name}: ${err instanceof Error ? err.message : 'push failed'}`);
    }
  }
  return problems;
}

/** The console admin of `npm run dev` when `WXHUB_ADMIN_USER` is not set. */
export const DEV_ADMIN_USER = 'admin';

/**
 * The dev console's password: made once (random) into `dev-admin-password` beside the dev
 * database (or in `WXHUB_DATA_DIR`), then read back on every start, so it stays the same.
 */
export function devAdminPassword(
  env: Record<string, string | undefined>,
  databaseUrl: string | undefined,
): { password: string; file: string } {
  const dir =
    databaseUrl?.startsWith('file:') === true
      ? dirname(databaseUrl.slice('file:'.length))
      : (env.WXHUB_DATA_DIR ?? '.data');
  const file = join(dir, 'dev-admin-password');
  if (existsSync(file)) {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept.length >= 12) return { password: kept, file };
  }
  mkdirSync(dir, { recursive: true });
  const password = randomBytes(12).toString('base64url');
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return { password, file };
}

/** The bearer key of `npm run dev` when `WXHUB_API_KEYS` is not set (printed in the banner). */
export const DEV_API_KEY = 'dev-key-change-me-0000';

function addDemoMerchant(
  file: AppsFile,
  sim: RunningSimulator,
  target: DemoTarget,
): { mchId: string } {
  const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const mchId = '1900000109';
  const apiV3Key = randomBytes(16).toString('hex');
  const serialNo = randomBytes(20).toString('hex').toUpperCase();
  sim.sim.pay.registerMerchant({
    mchId,
    apiV3Key,
    serialNo,
    publicKey: merchant.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  });
  const keys = sim.sim.pay.keys();
  file.merchants.push({
    name: DEMO_MERCHANT,
    mchId,
    appId: file.apps.find((a) => a.kind === 'miniprogram')?.appId,
    apiV3Key,
    serialNo,
    privateKey: merchant.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyId: keys.publicKeyId,
    publicKey: keys.publicKey,
    platformCertificates: [],
    forward: [{ url: `${target.url}/pay` }],
  });
  return { mchId };
}

export interface DevOptions {
  /** Time of the hub and the simulator alike (default `Date.now`); tests move it. */
  now?: () => number;
  /** Where the banner goes (default stdout). */
  write?: (text: string) => void;
  /** The hub's logger (default: JSON lines on stdout at `LOG_LEVEL`). */
  log?: Logger;
}

export interface DevHub {
  hub: Hub;
  sim: RunningSimulator;
  /** The demo forward target (logs deliveries, answers a passive reply). */
  target: DemoTarget;
  stop(): Promise<void>;
}

/** An SMS code sent, read back from the simulator ("the last code it sent"), verified; a COS upload. */
function signingLines(file: AppsFile, at: { base: string; sim: string; auth: string }): string[] {
  const json = `${at.auth} -H 'content-type: application/json'`;
  const sms = file.sms?.[0];
  const cos = file.cos?.[0];
  return [
    ...(sms === undefined
      ? []
      : [
          `  curl -s -X POST ${json} ${at.base}/v1/sms/${sms.name}/codes -d '{"phone":"13800000000","scene":"login"}'`,
          `  curl -s '${at.sim}/__sim/aliyun-sms/messages?phone=13800000000'  # the codes the simulator "sent"`,
          `  curl -s -X POST ${json} ${at.base}/v1/sms/${sms.name}/codes/verify -d '{"phone":"13800000000","scene":"login","code":"<code above>"}'`,
        ]),
    ...(cos === undefined
      ? []
      : [
          `  curl -s -X POST ${json} ${at.base}/v1/cos/${cos.name}/upload -d '{"key":"${cos.prefix}hello.txt","contentType":"text/plain"}'`,
          `  curl -s -X PUT -H 'Content-Type: text/plain' --data-binary hello '<url above>'`,
        ]),
  ];
}

/** A Douyin app's token, a `tt.login` code made by the simulator, its exchange, a proxied call. */
function douyinLines(apps: AppConfig[], at: { base: string; sim: string; auth: string }): string[] {
  const app = apps.find((a) => a.kind === 'douyin');
  if (app === undefined) return [];
  const json = `${at.auth} -H 'content-type: application/json'`;
  return [
    `  curl -s ${at.auth} ${at.base}/v1/apps/${app.name}/token`,
    `  curl -s -X POST ${at.sim}/__sim/douyin/login-codes -d '{"appId":"${app.appId}","openid":"dy-demo"}'`,
    `  curl -s -X POST ${json} ${at.base}/v1/apps/${app.name}/code2session -d '{"code":"<code above>"}'`,
    `  curl -s -X POST ${json} ${at.base}/v1/proxy/${app.name}/api/apps/share_config -d '{"appid":"${app.appId}","uniq_id":"1","type":1}'`,
  ];
}

/**
 * OAuth2 web authorization, as a browser inside WeChat would go (curl follows the hub, the
 * simulator's OAuth page and the callback to the page with the ticket), then the redeem.
 */
function oauthLines(base: string, auth: string, app: AppConfig | undefined): string[] {
  const allowed = app?.oauthRedirects?.[0];
  if (app === undefined || allowed === undefined) return [];
  const page = `${allowed}${allowed.endsWith('/') ? 'done' : ''}`;
  const start = `${base}/oauth/${app.name}/authorize?scope=snsapi_userinfo&redirect=${encodeURIComponent(page)}`;
  return [
    `  curl -s -L -o /dev/null -w '%{url_effective}\\n' '${start}'`,
    `  curl -s -X POST ${auth} ${base}/v1/oauth/tickets/redeem -d '{"ticket":"<wxhub_ticket of that URL>"}'`,
  ];
}

/**
 * `npm run dev`: the whole hub on its own embedded SQLite file ({@link DEV_DATABASE_URL}), talking
 * to the bundled WeChat simulator, with the demo apps forwarding to a demo target. No WeChat account, network or database server needed. The
 * simulator's clock follows real time like the hub's, and the banner never prints a key that
 * came from the environment.
 */
export async function startDev(
  env: Record<string, string | undefined>,
  opts: DevOptions = {},
): Promise<DevHub> {
  const appsFile = env.WXHUB_APPS ?? '@dev/apps.example.json';
  const givenKeys = env.WXHUB_API_KEYS !== undefined && env.WXHUB_API_KEYS !== '';
  const now = opts.now ?? Date.now;
  const write = opts.write ?? ((t: string) => process.stdout.write(t));
  const sim = await startSimulator({
    port: Number(env.SIM_PORT ?? 3001),
    sim: createSimulator({ clock: createLiveSimClock(now) }),
    // Components get a fresh ticket every 10 minutes, as WeChat pushes them.
    ticketTimerMs: 30_000,
  });
  let target: DemoTarget;
  try {
    target = await startDemoTarget({ port: Number(env.DEV_TARGET_PORT ?? 3002), write });
  } catch (err) {
    await sim.close();
    throw err;
  }
  const givenAdmin = env.WXHUB_ADMIN_USER !== undefined && env.WXHUB_ADMIN_USER !== '';
  const devAdmin = givenAdmin ? undefined : devAdminPassword(env, devDatabaseUrl(env));
  let hub: Hub;
  let file: AppsFile;
  let demoPay: { mchId: string } | undefined;
  try {
    file = parseAppsFile(
      appsFile.startsWith('@') ? readFileSync(appsFile.slice(1), 'utf8') : appsFile,
    );
    // The demo merchant exists only with the example file (its keys are made now), whose forward
    // rules name the target's default port.
    if (env.WXHUB_APPS === undefined) {
      const onTarget = (url: string) =>
        url.startsWith(EXAMPLE_TARGET) ? `${target.url}${url.slice(EXAMPLE_TARGET.length)}` : url;
      for (const app of file.apps) {
        app.forward = app.forward.map((r) => ({ ...r, url: onTarget(r.url) }));
        if (app.oauthRedirects !== undefined) app.oauthRedirects = app.oauthRedirects.map(onTarget);
      }
      demoPay = addDemoMerchant(file, sim, target);
    }
    for (const app of file.apps) {
      if (app.appSecret === undefined) continue;
      if (app.kind === 'wecom') sim.sim.wecom.register(wecomSimApp(app, app.appSecret));
      else if (app.kind === 'fengniao') {
        sim.sim.fengniao.registerApp({ appId: app.appId, secret: app.appSecret });
      } else if (app.kind === 'shansong') {
        sim.sim.shansong.registerApp({ clientId: app.appId, secret: app.appSecret });
      } else sim.sim.registerApp({ appId: app.appId, secret: app.appSecret });
    }
    for (const s of file.sms ?? []) sim.sim.aliyunSms.registerKey(s.accessKeyId, s.accessKeySecret);
    for (const b of file.cos ?? []) sim.sim.cos.registerKey(b.secretId, b.secretKey);
    hub = await startHub(
      {
        ...env,
        DATABASE_URL: devDatabaseUrl(env),
        WECHAT_API_BASE: env.WECHAT_API_BASE ?? sim.url,
        WECHATPAY_API_BASE: env.WECHATPAY_API_BASE ?? sim.url,
        WECOM_API_BASE: env.WECOM_API_BASE ?? `${sim.url}/qyapi`,
        FENGNIAO_API_BASE: env.FENGNIAO_API_BASE ?? `${sim.url}/fengniao`,
        SHANSONG_API_BASE: env.SHANSONG_API_BASE ?? `${sim.url}/shansong`,
        DOUYIN_API_BASE: env.DOUYIN_API_BASE ?? `${sim.url}/douyin`,
        ALIYUN_SMS_ENDPOINT: env.ALIYUN_SMS_ENDPOINT ?? `${sim.url}/aliyun-sms`,
        COS_ENDPOINT: env.COS_ENDPOINT ?? `${sim.url}/cos`,
        // The simulator plays WeChat's authorization pages too.
        WECHAT_MP_BASE: env.WECHAT_MP_BASE ?? sim.url,
        WECHAT_OPEN_BASE: env.WECHAT_OPEN_BASE ?? sim.url,
        WXHUB_PUBLIC_URL: env.WXHUB_PUBLIC_URL ?? `http://127.0.0.1:${env.PORT ?? '3000'}`,
        WXHUB_APPS: env.WXHUB_APPS === undefined ? JSON.stringify(file) : appsFile,
        WXHUB_API_KEYS: givenKeys ? env.WXHUB_API_KEYS : DEV_API_KEY,
        ...(devAdmin === undefined
          ? {}
          : { WXHUB_ADMIN_USER: DEV_ADMIN_USER, WXHUB_ADMIN_PASSWORD: devAdmin.password }),
      },
      {
        createApp: createHubApp,
        refresh: refreshNow,
        ...(opts.now === undefined ? {} : { clock: { now } }),
        ...(opts.log === undefined ? {} : { log: opts.log }),
      },
    );
  } catch (err) {
    await target.close();
    await sim.close();
    throw err;
  }
  const base = hub.server.url;
  const name = file.apps[0]?.name ?? 'demo-oa';
  const demoAuthorizers = env.WXHUB_APPS === undefined ? DEMO_AUTHORIZERS : [];
  const componentProblems = await startDemoComponents(file, sim, base, demoAuthorizers);
  const demoCorps = env.WXHUB_APPS === undefined ? [DEMO_CORP] : [];
  const suiteProblems = await startDemoSuites(file, sim, base, demoCorps);
  const component = file.apps.find((a) => a.kind === 'component');
  const oauthApp = file.apps.find((a) => a.oauthRedirects?.[0] !== undefined);
  // A key from the environment is the operator's secret: the lines name it, never print it.
  const auth = givenKeys
    ? `-H "Authorization: Bearer $WXHUB_API_KEY"`
    : `-H 'Authorization: Bearer ${DEV_API_KEY}'`;
  const db = hub.deps.config.database;
  // `npm run push` finds the hub and the apps file by itself unless they were moved.
  const pushArgs = [
    ...(base === 'http://127.0.0.1:3000' ? [] : [`--hub ${base}`]),
    ...(env.WXHUB_APPS === undefined ? [] : ['--apps "$WXHUB_APPS"']),
  ];
  const pushable = file.apps.filter((a) => a.token !== undefined);
  const pushLines = pushable
    .slice(0, 2)
    .map(
      (a, i) =>
        `  npm run push -- ${[`--app ${a.name}`, i === 0 ? '--text hi' : '--event subscribe', ...pushArgs].join(' ')}`,
    );
  write(
    [
      '',
      `wxhub dev: hub on ${base}, WeChat simulator on ${sim.url}`,
      `forward target on ${target.url}: logs each delivery, answers a passive reply`,
      ...databaseLines(db),
      // A password from the environment is the operator's secret: never printed.
      devAdmin === undefined
        ? `console: ${base}/admin/ (user and password from WXHUB_ADMIN_USER / WXHUB_ADMIN_PASSWORD)`
        : `console: ${base}/admin/ (user ${DEV_ADMIN_USER}, password ${devAdmin.password}, kept in ${devAdmin.file})`,
      'try:',
      ...pushLines,
      ...(givenKeys ? ['  export WXHUB_API_KEY=…  # one of the keys in WXHUB_API_KEYS'] : []),
      `  curl -s ${base}/healthz`,
      `  curl -s ${auth} ${base}/v1/apps/${name}/token`,
      `  curl -s ${auth} '${base}/v1/apps/${name}/ticket?type=jsapi'`,
      ...(component === undefined
        ? []
        : [
            `  curl -s ${auth} ${base}/v1/components/${component.name}/token`,
            ...demoAuthorizers
              .slice(0, 1)
              .map(
                (id) =>
                  `  curl -s ${auth} ${base}/v1/components/${component.name}/authorizers/${id}/token`,
              ),
            `  curl -s -X POST ${sim.url}/__sim/components/release-test -d '{"appId":"${component.appId}"}'`,
          ]),
      ...componentProblems.map((p) => `  (demo component: ${p})`),
      ...suiteLines(base, sim.url, auth, file, demoCorps),
      ...suiteProblems.map((p) => `  (demo suite: ${p})`),
      ...oauthLines(base, auth, oauthApp),
      ...capabilityLines({
        base,
        simUrl: sim.url,
        auth,
        app: file.apps.find((a) => a.kind === 'miniprogram'),
      }),
      ...loginLines(file.apps, { base, sim: sim.url, auth }),
      ...wecomLines(file.apps, { base, sim: sim.url, auth }),
      ...deliveryLines(file.apps, { base, sim: sim.url, auth }),
      ...douyinLines(file.apps, { base, sim: sim.url, auth }),
      ...signingLines(file, { base, sim: sim.url, auth }),
      `  curl -s -X POST ${auth} ${base}/v1/refresh`,
      `  curl -s ${auth} '${base}/healthz?detail=1'`,
      `  curl -s ${auth} ${base}/metrics`,
      `  curl -s ${sim.url}/__sim/counters`,
      ...(demoPay === undefined
        ? []
        : [
            `  curl -s -X POST ${auth} -H 'content-type: application/json' ${base}/v1/pay/${DEMO_MERCHANT}/jsapi -d '{"description":"demo","out_trade_no":"DEMO001","amount":{"total":1},"payer":{"openid":"o-demo"}}'`,
            `  curl -s -X POST ${sim.url}/__sim/pay/orders/pay -d '{"mchId":"${demoPay.mchId}","outTradeNo":"DEMO001"}'`,
            `  curl -s -X POST ${sim.url}/__sim/pay/notify -d '{"url":"${base}/pay/${DEMO_MERCHANT}/notify","mchId":"${demoPay.mchId}","eventType":"TRANSACTION.SUCCESS","outTradeNo":"DEMO001"}'`,
          ]),
      '',
    ].join('\n'),
  );
  return {
    hub,
    sim,
    target,
    async stop() {
      await hub.stop();
      await target.close();
      await sim.close();
    },
  };
}

/**
 * Banner lines for a Mini Program login: a code from the simulator, the login, the simulator's
 * open data for that user, its decryption, and the JWK set that verifies the login's token.
 */
function loginLines(
  apps: readonly { name: string; kind: string; appId: string }[],
  at: { base: string; sim: string; auth: string },
): string[] {
  const mp = apps.find((a) => a.kind === 'miniprogram');
  if (mp === undefined) return [];
  const json = `${at.auth} -H 'content-type: application/json'`;
  const user = `{"appId":"${mp.appId}","openid":"o-demo"}`;
  return [
    `  curl -s -X POST ${at.sim}/__sim/login-codes -d '${user}'`,
    `  curl -s -X POST ${json} ${at.base}/v1/apps/${mp.name}/login -d '{"code":"<code above>"}'`,
    `  curl -s -X POST ${at.sim}/__sim/open-data -d '${user}'`,
    `  curl -s -X POST ${json} ${at.base}/v1/apps/${mp.name}/decrypt -d '{"openid":"o-demo","encryptedData":"<above>","iv":"<above>"}'`,
    `  curl -s ${at.base}/.well-known/jwks.json`,
  ];
}

/** The simulator's side of a `kind: wecom` app of the apps file (its corp, secret, callback keys). */
function wecomSimApp(app: AppConfig, corpSecret: string) {
  return {
    corpId: app.appId,
    corpSecret,
    ...(app.agentId === undefined ? {} : { agentId: app.agentId }),
    ...(app.token === undefined ? {} : { token: app.token }),
    ...(app.encodingAesKey === undefined ? {} : { encodingAesKey: app.encodingAesKey }),
  };
}

/** Demo lines of the first `kind: wecom` app: its token, a proxied call, URL check and a push. */
export function wecomLines(
  apps: AppConfig[],
  at: { base: string; sim: string; auth: string },
): string[] {
  const app = apps.find((a) => a.kind === 'wecom' && a.appSecret !== undefined);
  if (app === undefined) return [];
  const url = `${at.base}/wx/${app.name}/callback`;
  const lines = [
    `  curl -s ${at.auth} ${at.base}/v1/apps/${app.name}/token`,
    `  curl -s ${at.auth} '${at.base}/v1/proxy/${app.name}/cgi-bin/user/get?userid=zhangsan'`,
  ];
  if (app.token === undefined || app.encodingAesKey === undefined) return lines;
  return [
    ...lines,
    `  curl -s -X POST ${at.sim}/__sim/wecom/verify-url -d '{"corpId":"${app.appId}","url":"${url}"}'`,
    `  curl -s -X POST ${at.sim}/__sim/wecom/push -d '{"corpId":"${app.appId}","url":"${url}","content":"hello"}'`,
  ];
}

/**
 * Banner lines for the delivery platforms: a Fengniao merchant authorizing (the simulator posts the
 * code to the hub), its token, a signed business call and a signed callback; a Shansong merchant's
 * OAuth trip (curl follows the hub, the simulator's page and back), its token, a signed call and
 * an order callback on the app's secret callback URL.
 */
function deliveryLines(
  apps: AppsFile['apps'],
  at: { base: string; sim: string; auth: string },
): string[] {
  const json = `${at.auth} -H 'content-type: application/json'`;
  const fn = apps.find((a) => a.kind === 'fengniao');
  const ss = apps.find((a) => a.kind === 'shansong');
  const lines: string[] = [];
  if (fn !== undefined) {
    lines.push(
      `  curl -s -X POST ${at.sim}/__sim/fengniao/authorize -d '{"appId":"${fn.appId}","merchantId":"51659","url":"${at.base}/fengniao/${fn.name}/auth-callback"}'`,
      `  curl -s ${at.auth} ${at.base}/v1/fengniao/${fn.name}/merchants/51659/token`,
      `  curl -s -X POST ${json} ${at.base}/v1/fengniao/${fn.name}/merchants/51659/proxy/preCreateOrder -d '{"partner_order_code":"DEMO1","order_type":1}'`,
      `  curl -s -X POST ${at.sim}/__sim/fengniao/callback -d '{"appId":"${fn.appId}","url":"${at.base}/fengniao/${fn.name}/callback","businessData":{"callback_business_type":"orderStatusNotify","param":{"order_id":300000123456789012,"order_status":2}}}'`,
    );
  }
  if (ss !== undefined) {
    lines.push(
      `  curl -s ${at.auth} '${at.base}/v1/shansong/${ss.name}/authorize-url?merchant=demo-shop'`,
      `  curl -s -L -c /tmp/wxhub-shansong.cookies -b /tmp/wxhub-shansong.cookies '<the url above>'`,
      `  curl -s ${at.auth} ${at.base}/v1/shansong/${ss.name}/merchants/demo-shop/token`,
      `  curl -s -X POST ${json} ${at.base}/v1/shansong/${ss.name}/merchants/demo-shop/proxy/developer/orderCalculate -d '{"cityName":"北京市","sender":{"fromAddress":"demo"}}'`,
      `  curl -s ${at.auth} ${at.base}/v1/shansong/${ss.name}/callback-url`,
      `  curl -s -X POST ${at.sim}/__sim/shansong/callback -d '{"url":"<the callback-url above>","body":{"issOrderNo":"TDH001","orderNo":"DEMO1","status":30}}'`,
    );
  }
  return lines;
}
