import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createHubApp, refreshNow } from '../functions/index';
import { type AppConfig, type AppsFile, parseAppsFile } from '../shared/config';
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
      if (app.appSecret !== undefined)
        sim.sim.registerApp({ appId: app.appId, secret: app.appSecret });
    }
    hub = await startHub(
      {
        ...env,
        DATABASE_URL: devDatabaseUrl(env),
        WECHAT_API_BASE: env.WECHAT_API_BASE ?? sim.url,
        WECHATPAY_API_BASE: env.WECHATPAY_API_BASE ?? sim.url,
        // The simulator plays WeChat's authorization pages too.
        WECHAT_MP_BASE: env.WECHAT_MP_BASE ?? sim.url,
        WECHAT_OPEN_BASE: env.WECHAT_OPEN_BASE ?? sim.url,
        WECOM_API_BASE: env.WECOM_API_BASE ?? `${sim.url}/qyapi`,
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
      `database: ${db.dialect} (${db.dialect === 'sqlite' ? db.path : 'mysql'})`,
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
      `  curl -s -X POST ${auth} ${base}/v1/refresh`,
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
