import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, type Logger } from '../shared/http/log';
import type { TestTarget } from '../shared/store/testing';
import type { BenchContext } from './lib';

/**
 * Databases a bench runs on: SQLite (a temp file) always; MySQL when `BENCH_MYSQL_URL` or
 * `TEST_MYSQL_URL` is set. `cleanup` removes the temp folder.
 */
export function benchTargets(ctx: BenchContext): { targets: TestTarget[]; cleanup: () => void } {
  const { target, cleanup } = sqliteBenchTarget();
  const list = [target];
  const url = [process.env.BENCH_MYSQL_URL, process.env.TEST_MYSQL_URL].find(
    (u) => u !== undefined && u !== '',
  );
  if (url === undefined) ctx.log('MySQL: skipped, set BENCH_MYSQL_URL');
  else list.push({ name: 'mysql', config: { dialect: 'mysql', url } });
  return { targets: list, cleanup };
}

/** The embedded database alone, in a temp folder `cleanup` removes. */
export function sqliteBenchTarget(): { target: TestTarget; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'wxhub-bench-'));
  return {
    target: { name: 'sqlite', config: { dialect: 'sqlite', path: join(dir, 'wxhub.db') } },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A logger that formats every line like production and throws it away. */
export const discardingLog = (): Logger => createLogger('info', { write: () => undefined });
