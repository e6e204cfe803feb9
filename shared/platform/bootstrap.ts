import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ensureEnvAdmin } from '../admin/users';
import { absentFromFile, syncAppsFile } from '../apps/sync';
import type { Clock } from '../clock';
import type { AppsFile, Config } from '../config';
import { parseAppsFile, parseConfig } from '../config';
import { loadOrCreateLocalKey } from '../crypto/local-key';
import { createSecretBox } from '../crypto/secret-box';
import { describeDatabase, migrateDatabase, openDatabase, pingDatabase } from '../db/client';
import { describe, withTimeout } from '../http/app';
import { isBranded } from '../http/errors';
import type { Logger } from '../http/log';
import { createLogger } from '../http/log';
import { createStore, type Store } from '../store';
import type { Unreadable } from '../store/types';
import type { Deps } from './deps';
import { createDeps } from './deps';

/** How loading better-sqlite3 fails when its native addon was never built. */
const NO_SQLITE_ADDON = /Could not locate the bindings file|better_sqlite3\.node|'better-sqlite3'/;

const START_ERROR = Symbol.for('wxhub.StartError');

/** A start-up failure with a message fit for the operator (no secrets). */
export class StartError extends Error {
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isBranded(value, START_ERROR);
  }
  readonly [START_ERROR] = true;
  override name = 'StartError';
}

export interface BootstrapOptions {
  /** Folder holding `mysql/` and `sqlite/` migrations (default `./drizzle`). */
  migrationsDir?: string;
  log?: Logger;
  clock?: Clock;
  fetch?: typeof fetch;
  /**
   * Leave the start-up checks ({@link runStartupChecks}) to the caller: an SCF function runs them
   * after its first answer, so they never lengthen a cold start.
   */
  deferStartupChecks?: boolean;
}

/** Read once at start, synchronously: see loadOrCreateLocalKey. */
function readAppsText(config: Config): string | undefined {
  const src = config.apps;
  if (src === undefined) return undefined;
  if (src.kind === 'inline') return src.text;
  try {
    return readFileSync(src.path, 'utf8');
  } catch (err) {
    throw new StartError(
      `WXHUB_APPS: cannot read ${src.path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
}

/**
 * Turns the environment into ready {@link Deps}: config, database reachable and migrated, secret
 * key, apps file synced. Throws ConfigError, AppsFileError or StartError with an operator-facing
 * message; the caller prints it and exits non-zero.
 */
export async function bootstrap(
  env: Record<string, string | undefined>,
  opts: BootstrapOptions = {},
): Promise<Deps> {
  const config = parseConfig(env);
  const log = opts.log ?? createLogger(config.logLevel);
  // WXHUB_EXPOSE=public with trust is refused by parseConfig; `all` may be a service whose public
  // access is off (then trust is sound), which only the operator knows.
  if (config.trustWxSource && config.expose === 'all') {
    log.warn(
      'WXHUB_TRUST_WX_SOURCE=1 with WXHUB_EXPOSE=all: anyone who reaches this service can send ' +
        'x-wx-source and pass as internal; keep its public access off, or split it into a public ' +
        'and an internal service (docs/deploy.md)',
    );
  }
  const appsText = readAppsText(config);
  const appsFile = appsText === undefined ? undefined : parseAppsFile(appsText);

  const where = describeDatabase(config.database);
  const handle = await openDatabase(config.database).catch((err: unknown) => {
    // The CloudRun image leaves better-sqlite3 uncompiled unless built for SQLite (Dockerfile).
    if (config.database.dialect === 'sqlite' && NO_SQLITE_ADDON.test(describe(err).message)) {
      throw new StartError(
        `the embedded database (${where}) needs better-sqlite3's native addon, which this ` +
          'installation lacks: set DATABASE_URL (or MYSQL_ADDRESS) to a MySQL database, or build ' +
          'the image with --build-arg WXHUB_SQLITE=1',
      );
    }
    throw err;
  });
  try {
    // SQLite answers at once or throws: its migration check below is its ping.
    if (handle.dialect === 'mysql') await withTimeout(pingDatabase(handle), 10_000);
    await migrateDatabase(
      handle,
      opts.migrationsDir ?? env.WXHUB_MIGRATIONS_DIR ?? resolve('drizzle'),
    );
  } catch (err) {
    await handle.close().catch(() => undefined);
    const d = describe(err);
    throw new StartError(`cannot use the database (${where}): ${d.code ?? d.message}`);
  }

  let keys = config.secretKeys;
  if (keys === undefined && config.database.dialect === 'sqlite') {
    const path = join(dirname(config.database.path), 'wxhub-secret.key');
    const local = loadOrCreateLocalKey(path);
    if (local.created)
      log.warn({ path }, 'generated a secret-at-rest key for the embedded database');
    keys = [local.key];
  }
  if (keys === undefined) throw new StartError('WXHUB_SECRET_KEY: required');
  const store = await createStore(handle, createSecretBox(keys), {
    log,
    ...(opts.clock === undefined ? {} : { clock: opts.clock }),
  });
  const deps = createDeps({
    config,
    store,
    log,
    ...(opts.clock === undefined ? {} : { clock: opts.clock }),
    ...(opts.fetch === undefined ? {} : { fetch: opts.fetch }),
  });

  if (appsFile === undefined) {
    log.warn('WXHUB_APPS is not set: apps already in the database are left as they are');
  } else {
    const r = await syncAppsFile(store, appsFile, deps.clock.now());
    log.info({ ...r }, 'apps file synced');
    warnImplicitSafeMode(appsFile, log);
    syncedNames.set(store, {
      apps: appsFile.apps.map((a) => a.name),
      merchants: appsFile.merchants.map((m) => m.name),
    });
  }
  if (opts.deferStartupChecks !== true) {
    // SCF functions leave it to the admin function's first login (ensureEnvAdmin is lazy there).
    await ensureEnvAdmin(deps).catch((err: unknown) => {
      throw new StartError(`WXHUB_ADMIN_USER: cannot create the admin (${describe(err).message})`);
    });
    await runStartupChecks(deps);
  }
  const replica =
    config.database.dialect === 'mysql' && config.database.readUrl !== undefined
      ? { readReplica: describeDatabase({ dialect: 'mysql', url: config.database.readUrl }) }
      : {};
  log.info({ database: where, ...replica, instance: deps.instanceId }, 'wxhub ready');
  return deps;
}

/**
 * The names the apps file of this start listed, by store, for {@link runStartupChecks}: the check
 * reads the rows it needs anyway, so a cold start pays no query for it.
 */
const syncedNames = new WeakMap<Store, { apps: string[]; merchants: string[] }>();

/**
 * Checks that only warn (never stop the start): apps and merchants in the database that the apps
 * file leaves out, and stored secrets that do not open. Never throws; a failure is logged.
 */
export async function runStartupChecks(deps: Pick<Deps, 'store' | 'log'>): Promise<void> {
  try {
    const [apps, merchants] = await Promise.all([
      deps.store.apps.list(),
      deps.store.merchants.list(),
    ]);
    warnAbsent(deps, apps, merchants);
    await warnUnreadable(deps.store, deps.log, [...apps, ...merchants]);
  } catch (err) {
    deps.log.warn({ err: describe(err) }, 'start-up checks failed');
  }
}

/**
 * One warning naming the apps and merchants the database holds but the apps file of this start
 * does not list (names only). They are left as they are: a file of another function, or an older
 * one, must not switch them off; `"enabled": false` does.
 */
function warnAbsent(
  deps: Pick<Deps, 'store' | 'log'>,
  apps: { name: string }[],
  merchants: { name: string }[],
): void {
  const listed = syncedNames.get(deps.store);
  if (listed === undefined) return;
  const absent = {
    apps: absentFromFile(apps, listed.apps),
    merchants: absentFromFile(merchants, listed.merchants),
  };
  if (absent.apps.length > 0 || absent.merchants.length > 0)
    deps.log.warn(
      absent,
      'in the database but not in the apps file: left as they are ("enabled": false disables)',
    );
}

/**
 * One warning per row holding a sealed value that does not open with the configured keys (a key
 * removed from `WXHUB_SECRET_KEY` too early, or an altered value): table, row, columns and key id,
 * never a value. Those rows answer 503 until fixed; everything else keeps working.
 */
async function warnUnreadable(
  store: Store,
  log: Logger,
  accounts: { unreadable?: Unreadable[] | undefined }[],
): Promise<void> {
  const credentials = await store.credentials.listUnderUnknownKeys(100_000);
  const rows = [
    ...accounts.map((a) => a.unreadable ?? []),
    ...credentials.map((c) => (c.unreadable === undefined ? [] : [c.unreadable])),
  ];
  for (const bad of rows) {
    const [first] = bad;
    if (first === undefined) continue;
    log.warn(
      {
        table: first.column.split('.')[0],
        row: first.row,
        columns: bad.map((u) => u.column.split('.')[1]),
        code: first.code,
        keyId: first.keyId,
      },
      `a stored secret does not open: ${first.message}`,
    );
  }
}

/**
 * An app with an AES key and no `messageMode` runs in safe mode and refuses plaintext pushes, but
 * WeChat's console asks for an EncodingAESKey in every mode: name such apps once at start, so an
 * app whose console says plaintext (明文模式) or compatible (兼容模式) is set before pushes are lost.
 */
function warnImplicitSafeMode(file: AppsFile, log: Logger): void {
  const implicit = file.apps
    .filter((a) => a.encodingAesKey !== undefined && a.messageMode === undefined)
    .filter((a) => a.kind === 'official' || a.kind === 'miniprogram' || a.kind === 'component')
    .map((a) => a.name);
  if (implicit.length === 0) return;
  log.warn(
    { apps: implicit },
    'apps with an encodingAesKey and no messageMode run in safe mode: plaintext pushes are refused; set "messageMode": "compatible" or "plain" if WeChat\'s console says 兼容模式 or 明文模式',
  );
}
