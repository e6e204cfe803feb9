import { readFileSync } from 'node:fs';
import { createHubApp, refreshNow } from '../functions/index';
import { parseAppsFile } from '../shared/config';
import { reportStartFailure, startHub, stopOnSignals } from '../shared/platform/main';
import { startSimulator } from './simulator';

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
  for (const app of file.apps) {
    if (app.appSecret !== undefined)
      sim.sim.registerApp({ appId: app.appId, secret: app.appSecret });
  }
  const hub = await startHub(
    {
      ...process.env,
      WECHAT_API_BASE: process.env.WECHAT_API_BASE ?? sim.url,
      WXHUB_APPS: APPS_FILE,
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
