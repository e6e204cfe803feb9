import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../shared/http/log';
import { startDev } from './start';

/** Environment of a dev hub on free ports over a fresh SQLite file. */
export function devEnv(logLevel = 'info'): Record<string, string> {
  return {
    PORT: '0',
    SIM_PORT: '0',
    DEV_TARGET_PORT: '0',
    DATABASE_URL: `file:${join(mkdtempSync(join(tmpdir(), 'wxhub-dev-')), 'dev.db')}`,
    LOG_LEVEL: logLevel,
  };
}

/** The dev setup on `env` with a silent log, and the lines of the banner it wrote. */
export async function startDevBanner(env: Record<string, string>) {
  const out: string[] = [];
  const dev = await startDev(env, {
    write: (t) => void out.push(t),
    log: createLogger('silent'),
  });
  return { dev, banner: () => out.join('').split('\n') };
}
