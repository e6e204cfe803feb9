import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppsFileError, ConfigError } from '../config';
import { keyIdOf } from '../crypto/secret-box';
import { createLogger } from '../http/log';
import { openTestStore, testTargets, uniqueName } from '../store/testing';
import { bootstrap, runStartupChecks, StartError } from './bootstrap';

const ROOT = resolve(import.meta.dirname, '../..');
const quiet = { log: createLogger('silent'), migrationsDir: join(ROOT, 'drizzle') };
const tmp = () => mkdtempSync(join(tmpdir(), 'wxhub-boot-'));
const app = (name: string) => ({ name, kind: 'official', appId: `wx${name}0000`, appSecret: 's' });

describe('bootstrap', () => {
  it('generates the embedded secret key once, then reuses it', async () => {
    const dir = tmp();
    const env = { DATABASE_URL: `file:${join(dir, 'hub.db')}` };
    const first = await bootstrap(env, quiet);
    await first.store.close();
    const keyFile = join(dir, 'wxhub-secret.key');
    expect(existsSync(keyFile)).toBe(true);
    const key = readFileSync(keyFile, 'utf8');
    const second = await bootstrap(env, quiet);
    await second.store.close();
    expect(readFileSync(keyFile, 'utf8')).toBe(key);
  });

  it('names the apps that run in safe mode only because they have an AES key', async () => {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger('warn', { write: (l: string) => lines.push(JSON.parse(l)) });
    const key = 'K'.repeat(43);
    const apps = [
      { ...app('implicit'), token: 'tok', encodingAesKey: key },
      { ...app('explicit'), token: 'tok', encodingAesKey: key, messageMode: 'safe' },
      { ...app('plainapp'), token: 'tok' },
    ];
    const deps = await bootstrap(
      { DATABASE_URL: `file:${join(tmp(), 'hub.db')}`, WXHUB_APPS: JSON.stringify({ apps }) },
      { log, migrationsDir: quiet.migrationsDir },
    );
    await deps.store.close();
    const warned = lines.filter((l) => String(l.msg).startsWith('apps with an encodingAesKey'));
    expect(warned.map((l) => l.apps)).toEqual([['implicit']]);
    expect(JSON.stringify(lines)).not.toContain(key);
  });

  it('warns when x-wx-source is trusted by a service that also serves the public routes', async () => {
    const trustWarnings = async (env: Record<string, string>) => {
      const lines: Record<string, unknown>[] = [];
      const log = createLogger('warn', { write: (l: string) => lines.push(JSON.parse(l)) });
      const deps = await bootstrap(
        { DATABASE_URL: `file:${join(tmp(), 'hub.db')}`, ...env },
        { log, migrationsDir: quiet.migrationsDir },
      );
      await deps.store.close();
      return lines.filter((l) => String(l.msg).startsWith('WXHUB_TRUST_WX_SOURCE=1')).length;
    };
    expect(await trustWarnings({ WXHUB_TRUST_WX_SOURCE: '1' })).toBe(1);
    expect(await trustWarnings({ WXHUB_TRUST_WX_SOURCE: '1', WXHUB_EXPOSE: 'all' })).toBe(1);
    expect(await trustWarnings({ WXHUB_TRUST_WX_SOURCE: '1', WXHUB_EXPOSE: 'internal' })).toBe(0);
    expect(await trustWarnings({})).toBe(0);
    await expect(
      bootstrap({ WXHUB_TRUST_WX_SOURCE: '1', WXHUB_EXPOSE: 'public' }, quiet),
    ).rejects.toThrow(ConfigError);
  });

  it('rejects a malformed apps file before touching the database', async () => {
    const dir = tmp();
    const env = {
      DATABASE_URL: `file:${join(dir, 'hub.db')}`,
      WXHUB_APPS: '{"apps":[{"name":"x","kind":"nope"}]}',
    };
    await expect(bootstrap(env, quiet)).rejects.toBeInstanceOf(AppsFileError);
    expect(existsSync(join(dir, 'hub.db'))).toBe(false);
    await expect(bootstrap({ WXHUB_APPS: '@/no/such/file.json' }, quiet)).rejects.toThrow(
      'WXHUB_APPS: cannot read /no/such/file.json (ENOENT)',
    );
  });

  it('fails clearly on an unreachable database, without the password', async () => {
    const env = {
      DATABASE_URL: 'mysql://wxhub:PASSWORD-XYZ@127.0.0.1:1/wxhub',
      WXHUB_SECRET_KEY: randomBytes(32).toString('base64'),
    };
    const err = await bootstrap(env, quiet).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartError);
    expect((err as Error).message).toBe(
      'cannot use the database (MySQL 127.0.0.1:1/wxhub): ECONNREFUSED',
    );
    expect((err as Error).message).not.toContain('PASSWORD-XYZ');
  });

  it('rejects bad configuration with a ConfigError', async () => {
    await expect(bootstrap({ PORT: 'x' }, quiet)).rejects.toBeInstanceOf(ConfigError);
  });
});

describe.each(testTargets().filter((t) => t.config.dialect === 'mysql'))(
  'a start with a read replica, on $name',
  (target) => {
    it('starts while the replica is down, names it without its password, and reads fall back', async () => {
      if (target.config.dialect !== 'mysql') throw new Error('a MySQL target');
      await (await openTestStore(target)).store.close();
      const lines: Record<string, unknown>[] = [];
      const log = createLogger('info', { write: (l: string) => lines.push(JSON.parse(l)) });
      const deps = await bootstrap(
        {
          DATABASE_URL: target.config.url,
          DATABASE_READ_URL: 'mysql://reader:READ-PASSWORD-XYZ@127.0.0.1:1/wxhub_replica',
          WXHUB_SECRET_KEY: randomBytes(32).toString('base64'),
          WXHUB_APPS: JSON.stringify({ apps: [app(uniqueName('rr').replace(/-/g, ''))] }),
        },
        { log, migrationsDir: quiet.migrationsDir },
      );
      try {
        const ready = lines.find((l) => l.msg === 'wxhub ready');
        expect(ready).toMatchObject({ readReplica: 'MySQL 127.0.0.1:1/wxhub_replica' });
        expect((await deps.store.reader.apps.list()).length).toBeGreaterThan(0);
        const warned = lines.filter((l) => String(l.msg).startsWith('read replica'));
        expect(warned).toHaveLength(1);
        expect(warned[0]).toMatchObject({ level: 'warn', code: 'ECONNREFUSED' });
        expect(JSON.stringify(lines)).not.toContain('READ-PASSWORD-XYZ');
      } finally {
        await deps.store.close();
      }
    });
  },
);

function run(env: Record<string, string>, until?: RegExp) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'functions/server.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let signalled = false;
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    // One SIGTERM only: a second one during the drain force-quits by design.
    if (!signalled && until?.test(out)) {
      signalled = true;
      child.kill('SIGTERM');
    }
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  return new Promise<{ code: number | null; out: string; err: string }>((done) => {
    child.on('exit', (code) => done({ code, out, err }));
  });
}

describe('the server process', () => {
  it('exits non-zero naming every bad key and no value', async () => {
    const r = await run({ PORT: 'not-a-port', LOG_LEVEL: 'chatty', WXHUB_SECRET_KEY: 'c2hvcnQ=' });
    expect(r.code).toBe(1);
    expect(r.err).toContain('PORT');
    expect(r.err).toContain('LOG_LEVEL');
    expect(r.err).toContain('WXHUB_SECRET_KEY: the key must decode to exactly 32 bytes (got 5)');
    expect(r.err).not.toContain('not-a-port');
    expect(r.err).not.toContain('chatty');
  });

  it('exits non-zero when the database is unreachable', async () => {
    const r = await run({
      DATABASE_URL: 'mysql://u:p@127.0.0.1:1/x',
      WXHUB_SECRET_KEY: randomBytes(32).toString('base64'),
    });
    expect(r.code).toBe(1);
    expect(r.err).toContain('cannot use the database (MySQL 127.0.0.1:1/x): ECONNREFUSED');
  });

  it('serves, then drains and exits 0 on SIGTERM', async () => {
    const dir = tmp();
    const r = await run(
      {
        DATABASE_URL: `file:${join(dir, 'hub.db')}`,
        PORT: '0',
        WXHUB_REFRESH_INTERVAL_SECONDS: '3600',
      },
      /"msg":"serving"/,
    );
    expect(r.code).toBe(0);
    expect(r.out).toContain('"msg":"stopped"');
  });
});

describe.each(testTargets())('the apps file sync, on $name', (target) => {
  const dbUrl =
    target.config.dialect === 'sqlite' ? `file:${target.config.path}` : target.config.url;
  const secretKey = randomBytes(32).toString('base64');
  const merchant = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    mchId: '1900000109',
    apiV3Key: 'V3KEYV3KEYV3KEYV3KEYV3KEYV3KEY12',
    serialNo: 'ABCDEF0123456789',
    privateKey: generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString(),
    ...extra,
  });
  /** Starts with `file` as WXHUB_APPS (from @path), returning the deps and the log lines. */
  const startWith = async (file: unknown, deferStartupChecks = false) => {
    if (target.config.dialect === 'mysql') await (await openTestStore(target)).store.close();
    const path = join(tmp(), 'apps.json');
    writeFileSync(path, JSON.stringify(file));
    const lines: Record<string, unknown>[] = [];
    const log = createLogger('info', { write: (l: string) => lines.push(JSON.parse(l)) });
    const env = {
      DATABASE_URL: dbUrl,
      WXHUB_SECRET_KEY: secretKey,
      WXHUB_APPS: `@${path}`,
    };
    const deps = await bootstrap(env, {
      log,
      migrationsDir: quiet.migrationsDir,
      deferStartupChecks,
    });
    return { deps, lines };
  };
  const absentLines = (lines: Record<string, unknown>[]) =>
    lines.filter((l) => String(l.msg).startsWith('in the database but not in the apps file'));

  it('merges: an app or merchant an older file omits stays enabled, and start-up names it once', async () => {
    const [one, two, pay] = [uniqueName('one'), uniqueName('two'), uniqueName('pay')];
    const first = await startWith({ apps: [app(one), app(two)], merchants: [merchant(pay)] });
    await first.deps.store.close();
    // Another function redeployed with an older file: it lists only `one`.
    const older = await startWith({ apps: [app(one)] });
    try {
      expect(await older.deps.store.apps.get(two)).toMatchObject({ enabled: true });
      expect(await older.deps.store.merchants.get(pay)).toMatchObject({ enabled: true });
      const warned = absentLines(older.lines);
      expect(warned).toHaveLength(1);
      expect(warned[0]?.level).toBe('warn');
      expect(warned[0]?.apps).toContain(two);
      expect(warned[0]?.apps).not.toContain(one);
      expect(warned[0]?.merchants).toContain(pay);
      expect(JSON.stringify(older.lines)).not.toContain('V3KEYV3KEY');
    } finally {
      await older.deps.store.close();
    }
    // SCF defers the check past its first answer: the warning comes with it, once.
    const deferred = await startWith({ apps: [app(one)] }, true);
    try {
      expect(absentLines(deferred.lines)).toEqual([]);
      await runStartupChecks(deferred.deps);
      expect(absentLines(deferred.lines)).toHaveLength(1);
      expect(absentLines(deferred.lines)[0]?.apps).toContain(two);
    } finally {
      await deferred.deps.store.close();
    }
  });

  it('disables only on "enabled": false, keeping the data; an entry without it enables again', async () => {
    const [oa, pay] = [uniqueName('oa'), uniqueName('pay')];
    const on = await startWith({ apps: [app(oa)], merchants: [merchant(pay)] });
    await on.deps.store.close();
    const off = await startWith({
      apps: [{ ...app(oa), enabled: false }],
      merchants: [merchant(pay, { enabled: false })],
    });
    expect(await off.deps.store.apps.get(oa)).toMatchObject({ enabled: false, appSecret: 's' });
    expect(await off.deps.store.merchants.get(pay)).toMatchObject({
      enabled: false,
      apiV3Key: 'V3KEYV3KEYV3KEYV3KEYV3KEYV3KEY12',
    });
    expect((await off.deps.store.apps.list({ enabled: true })).map((a) => a.name)).not.toContain(
      oa,
    );
    expect(off.lines.find((l) => l.msg === 'apps file synced')).toMatchObject({
      disabledApps: 1,
      disabledMerchants: 1,
    });
    await off.deps.store.close();
    const again = await startWith({ apps: [app(oa)], merchants: [merchant(pay)] });
    expect(await again.deps.store.apps.get(oa)).toMatchObject({ enabled: true });
    expect(await again.deps.store.merchants.get(pay)).toMatchObject({ enabled: true });
    await again.deps.store.close();
  });
});

describe.each(testTargets())(
  'start-up with secrets sealed under a removed key, on $name',
  (target) => {
    const keyA = randomBytes(32);
    const keyB = randomBytes(32);
    const dbUrl =
      target.config.dialect === 'sqlite' ? `file:${target.config.path}` : target.config.url;
    const started = async (
      keys: Buffer[],
      extra: Record<string, string> = {},
      deferStartupChecks = false,
    ) => {
      const lines: Record<string, unknown>[] = [];
      const log = createLogger('warn', { write: (l: string) => lines.push(JSON.parse(l)) });
      const env = {
        DATABASE_URL: dbUrl,
        WXHUB_SECRET_KEY: keys.map((k) => k.toString('base64')).join(','),
        ...extra,
      };
      const deps = await bootstrap(env, {
        log,
        migrationsDir: quiet.migrationsDir,
        deferStartupChecks,
      });
      return { deps, lines };
    };
    const unreadableLines = (lines: Record<string, unknown>[]) =>
      lines.filter((l) => String(l.msg).startsWith('a stored secret does not open'));

    it('warns once per row that does not open, naming table, row and key id, never a value', async () => {
      if (target.config.dialect === 'mysql') await (await openTestStore(target)).store.close();
      const name = uniqueName('boot');
      const first = await started([keyA], {
        WXHUB_APPS: JSON.stringify({ apps: [{ ...app(name), appSecret: 'APP-SECRET-VALUE' }] }),
      });
      const now = first.deps.clock.now();
      await first.deps.store.credentials.put(
        { owner: `app:${name}`, kind: 'access_token' },
        { value: 'TOKEN-VALUE-XYZ', expiresAt: now + 7_200_000 },
        now,
      );
      await first.deps.store.merchants.upsert(
        {
          name,
          mchId: '1900000109',
          apiV3Key: 'V3KEYV3KEYV3KEYV3KEYV3KEYV3KEY12',
          serialNo: 'ABCDEF0123456789',
          privateKey: 'PRIVATE-KEY-VALUE',
          platformCertificates: [],
          forward: [],
        },
        'api',
        now,
      );
      await first.deps.store.close();

      const second = await started([keyB]);
      await second.deps.store.close();
      const warned = unreadableLines(second.lines);
      expect(warned.map((l) => [l.table, l.row, l.keyId, l.code])).toEqual([
        ['apps', name, keyIdOf(keyA), 'SECRET_KEY_UNKNOWN'],
        ['merchants', name, keyIdOf(keyA), 'SECRET_KEY_UNKNOWN'],
        ['credentials', `app:${name}/access_token`, keyIdOf(keyA), 'SECRET_KEY_UNKNOWN'],
      ]);
      expect(warned[1]?.columns).toEqual(['api_v3_key', 'private_key']);
      const text = JSON.stringify(second.lines);
      for (const secret of [
        'APP-SECRET-VALUE',
        'TOKEN-VALUE-XYZ',
        'PRIVATE-KEY-VALUE',
        'V3KEYV3KEY',
      ])
        expect(text).not.toContain(secret);

      const rotated = await started([keyB, keyA]);
      await rotated.deps.store.close();
      expect(unreadableLines(rotated.lines)).toEqual([]);
    });

    it('leaves the check to the caller when deferred (SCF runs it after its first answer)', async () => {
      if (target.config.dialect === 'mysql') await (await openTestStore(target)).store.close();
      const name = uniqueName('defer');
      const first = await started([keyA], {
        WXHUB_APPS: JSON.stringify({ apps: [{ ...app(name), appSecret: 'APP-SECRET-VALUE' }] }),
      });
      await first.deps.store.close();
      const later = await started([keyB], {}, true);
      try {
        const mine = () =>
          unreadableLines(later.lines).filter((l) => l.table === 'apps' && l.row === name);
        expect(mine()).toEqual([]);
        await runStartupChecks(later.deps);
        expect(mine()).toHaveLength(1);
      } finally {
        await later.deps.store.close();
      }
    });
  },
);
