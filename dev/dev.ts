import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createHubApp, refreshNow } from '../functions/index';
import { type AppsFile, parseAppsFile } from '../shared/config';
import { reportStartFailure, startHub, stopOnSignals } from '../shared/platform/main';
import { type RunningSimulator, startSimulator } from './simulator';

/** Merchant of the demo: keys made at start, known to the simulator (public-key mode). */
const DEMO_MERCHANT = 'demo-pay';

function addDemoMerchant(file: AppsFile, sim: RunningSimulator): { mchId: string } {
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
    forward: [],
  });
  return { mchId };
}

// `npm run dev`: the whole hub on the embedded SQLite default, talking to the bundled WeChat
// simulator, with the demo apps. No WeChat account, network or database server needed.
const APPS_FILE = process.env.WXHUB_APPS ?? '@dev/apps.example.json';
const API_KEY = process.env.WXHUB_API_KEYS?.split(',')[0] ?? 'dev-key-change-me-0000';
const SIM_PORT = Number(process.env.SIM_PORT ?? 3001);

async function main(): Promise<void> {
  const sim = await startSimulator({ port: SIM_PORT });
  const file = parseAppsFile(
    APPS_FILE.startsWith('@') ? readFileSync(APPS_FILE.slice(1), 'utf8') : APPS_FILE,
  );
  // The demo merchant exists only with the example file (its keys are made now).
  const demoPay = process.env.WXHUB_APPS === undefined ? addDemoMerchant(file, sim) : undefined;
  for (const app of file.apps) {
    if (app.appSecret !== undefined)
      sim.sim.registerApp({ appId: app.appId, secret: app.appSecret });
  }
  const hub = await startHub(
    {
      ...process.env,
      WECHAT_API_BASE: process.env.WECHAT_API_BASE ?? sim.url,
      WECHATPAY_API_BASE: process.env.WECHATPAY_API_BASE ?? sim.url,
      WXHUB_PUBLIC_URL:
        process.env.WXHUB_PUBLIC_URL ?? `http://127.0.0.1:${process.env.PORT ?? '3000'}`,
      WXHUB_APPS: demoPay === undefined ? APPS_FILE : JSON.stringify(file),
      WXHUB_API_KEYS: process.env.WXHUB_API_KEYS ?? API_KEY,
    },
    { createApp: createHubApp, refresh: refreshNow },
  );
  const base = hub.server.url;
  const [first] = file.apps;
  const name = first?.name ?? 'demo-oa';
  process.stdout.write(
    [
      '',
      `wxhub dev: hub on ${base}, WeChat simulator on ${sim.url}`,
      `database: ${hub.deps.config.database.dialect} (${hub.deps.config.database.dialect === 'sqlite' ? hub.deps.config.database.path : 'mysql'})`,
      'try:',
      `  curl -s ${base}/healthz`,
      `  curl -s -H 'Authorization: Bearer ${API_KEY}' ${base}/v1/apps/${name}/token`,
      `  curl -s -H 'Authorization: Bearer ${API_KEY}' '${base}/v1/apps/${name}/ticket?type=jsapi'`,
      `  curl -s -X POST -H 'Authorization: Bearer ${API_KEY}' ${base}/v1/refresh`,
      `  curl -s ${sim.url}/__sim/counters`,
      ...(demoPay === undefined
        ? []
        : [
            `  curl -s -X POST -H 'Authorization: Bearer ${API_KEY}' -H 'content-type: application/json' ${base}/v1/pay/${DEMO_MERCHANT}/jsapi -d '{"description":"demo","out_trade_no":"DEMO001","amount":{"total":1},"payer":{"openid":"o-demo"}}'`,
            `  curl -s -X POST ${sim.url}/__sim/pay/orders/pay -d '{"mchId":"${demoPay.mchId}","outTradeNo":"DEMO001"}'`,
            `  curl -s -X POST ${sim.url}/__sim/pay/notify -d '{"url":"${base}/pay/${DEMO_MERCHANT}/notify","mchId":"${demoPay.mchId}","eventType":"TRANSACTION.SUCCESS","outTradeNo":"DEMO001"}'`,
          ]),
      '',
    ].join('\n'),
  );
  stopOnSignals({
    stop: async () => {
      await hub.stop();
      await sim.close();
    },
  });
}

main().catch((err: unknown) => process.exit(reportStartFailure(err)));
