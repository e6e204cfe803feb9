import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FUNCTIONS } from '../functions/index';
import { CLI_BIN, CLI_DIR, SCF_DIR as DEPLOY_DIR, deploySteps } from '../scripts/deploy';
import { ENV_KEYS } from '../shared/config/env';
import type { Deps } from '../shared/platform/deps';

// The SCF deployment (deploy/scf/, explained in deploy/scf/serverless.yml) checked against the
// functions the code defines. Nothing here needs a bundle or a Tencent account.

const ROOT = resolve(import.meta.dirname, '..');
const SCF_DIR = join(ROOT, 'deploy/scf');
/** Where the build puts one CommonJS bundle per function (`dist/scf/<name>/index.js`). */
const SCF_BUNDLE_DIR = join(ROOT, 'dist/scf');
/**
 * The newest SCF Node.js runtime identifier with a source: Tencent's template
 * https://github.com/tencentyun/serverless-demo Nodejs18.15-helloworld.
 */
const SCF_RUNTIME = 'Nodejs18.15';
const HANDLER = 'index.main_handler';

/** `${env:NAME}`: a value the CLI reads from the environment or .env at deploy time. */
const envRef = (name: string) => `\${env:${name}}`;

type Yaml = Record<string, unknown>;

function obj(value: unknown, where: string): Yaml {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${where}: expected a mapping`);
  }
  return value as Yaml;
}

function list(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${where}: expected a list`);
  return value;
}

function readYaml(path: string): Yaml {
  return obj(parse(readFileSync(path, 'utf8')), path);
}

interface Instance {
  folder: string;
  dir: string;
  file: Yaml;
  inputs: Yaml;
  events: Yaml[];
}

const root = readYaml(join(SCF_DIR, 'serverless.yml'));
const instances: Instance[] = readdirSync(SCF_DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(SCF_DIR, d.name, 'serverless.yml')))
  .map((d) => {
    const dir = join(SCF_DIR, d.name);
    const file = readYaml(join(dir, 'serverless.yml'));
    const inputs = obj(file.inputs, `${d.name}.inputs`);
    const events = list(inputs.events ?? [], `${d.name}.events`).map((e, i) =>
      obj(e, `${d.name}.events[${i}]`),
    );
    return { folder: d.name, dir, file, inputs, events };
  });

/** The function URL (`http` event) parameters of an instance, if it has one. */
function functionUrlOf(inst: Instance): Yaml | undefined {
  const e = inst.events.find((ev) => 'http' in ev);
  return e === undefined ? undefined : obj(obj(e.http, 'http').parameters, 'http.parameters');
}

interface Route {
  pathMatch: string;
  function: string;
}

/** The custom domain's path routes (deploy/scf/custom-domain.json). */
const routes = list(
  obj(JSON.parse(readFileSync(join(SCF_DIR, 'custom-domain.json'), 'utf8')), 'custom-domain')
    .routes,
  'routes',
).map((r, i) => {
  const raw = obj(r, `routes[${i}]`);
  return { pathMatch: String(raw.pathMatch), function: String(raw.function) } satisfies Route;
});
const names = FUNCTIONS.map((f) => f.name);

/**
 * The function a request path reaches through the custom domain: a route is an exact path or a
 * prefix ending in `/*`; the longest match wins (no two routes here overlap, so order is moot).
 */
function domainTarget(path: string): string | undefined {
  const matches = routes.filter((r) =>
    r.pathMatch.endsWith('/*') ? path.startsWith(r.pathMatch.slice(0, -1)) : path === r.pathMatch,
  );
  return matches.sort((a, b) => b.pathMatch.length - a.pathMatch.length)[0]?.function;
}

/** Deps that fail loudly if building a function's routes touches them (it must not). */
const untouchableDeps = new Proxy(
  {},
  {
    get(_t, key) {
      throw new Error(`createRoutes read deps.${String(key)} while building routes`);
    },
  },
) as Deps;

describe('SCF deployment (deploy/scf)', () => {
  it('has a template root with app and stage only', () => {
    expect(root.app).toBe('wxhub');
    expect(typeof root.stage).toBe('string');
    expect(root.component).toBeUndefined();
    expect(root.inputs).toBeUndefined();
  });

  it('deploys every function in FUNCTIONS, each as its own scf instance, none extra', () => {
    expect(instances.map((i) => i.folder).sort()).toEqual([...names].sort());
    for (const inst of instances) {
      expect(inst.file.component, inst.folder).toBe('scf');
      expect(inst.file.name, inst.folder).toBe(inst.folder);
      // app and stage come from the template root, so every instance agrees on them.
      expect(inst.file.app, inst.folder).toBeUndefined();
      expect(inst.file.stage, inst.folder).toBeUndefined();
    }
  });

  it('uploads dist/scf/<name>, whose index.js holds main_handler, after building that function', () => {
    for (const inst of instances) {
      const src = obj(inst.inputs.src, `${inst.folder}.src`);
      expect(inst.inputs.type, inst.folder).toBe('event');
      expect(inst.inputs.handler, inst.folder).toBe(HANDLER);
      // Each instance builds only its own package: the CLI runs the six hooks in parallel.
      expect(src.hook, inst.folder).toBe(`npm run build -- ${inst.folder}`);
      // The CLI resolves src and dist against the instance folder; the hook runs in src.
      expect(resolve(inst.dir, String(src.src)), inst.folder).toBe(inst.dir);
      const dist = resolve(inst.dir, String(src.dist));
      expect(dist, inst.folder).toBe(join(SCF_BUNDLE_DIR, inst.folder));
      const [file, exported] = HANDLER.split('.');
      expect(join(dist, `${file}.js`)).toBe(join(ROOT, 'dist/scf', inst.folder, 'index.js'));
      expect(exported).toBe('main_handler');
    }
  });

  it('runs the hook against the repository package.json, which has a build script', () => {
    for (const inst of instances) {
      let dir = inst.dir;
      while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
      expect(dir, inst.folder).toBe(ROOT);
    }
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.build).toBeTruthy();
  });

  it('uses the documented runtime everywhere', () => {
    for (const inst of instances) expect(inst.inputs.runtime, inst.folder).toBe(SCF_RUNTIME);
    expect(readFileSync(join(ROOT, 'docs/deploy.md'), 'utf8')).toContain(SCF_RUNTIME);
  });

  it('gives every function a public function URL and no API Gateway trigger', () => {
    for (const inst of instances) {
      // API Gateway triggers can no longer be created
      // (https://cloud.tencent.com/document/product/583/107631).
      expect(
        inst.events.filter((e) => 'apigw' in e),
        inst.folder,
      ).toEqual([]);
      expect(readFileSync(join(inst.dir, 'serverless.yml'), 'utf8')).not.toMatch(/apigw/i);
      // Only the documented event kinds: a function URL, and refresh's timer.
      for (const e of inst.events)
        expect(['http', 'timer'], inst.folder).toContain(Object.keys(e)[0]);
      // tencent-component-toolkit src/modules/triggers/http.ts: both networks default to off.
      expect(functionUrlOf(inst), inst.folder).toEqual({
        name: 'url',
        qualifier: '$DEFAULT',
        authType: 'NONE',
        netConfig: { enableIntranet: false, enableExtranet: true },
      });
    }
  });

  it('routes every path the code mounts to its own function through the custom domain', () => {
    expect(new Set(routes.map((r) => r.function))).toEqual(new Set(names));
    const paths = routes.map((r) => r.pathMatch);
    expect(new Set(paths).size).toBe(paths.length);
    // `/.well-known/…` (RFC 8615) is the one segment that starts with a dot.
    for (const r of routes) {
      expect(r.pathMatch).toMatch(/^\/(\.well-known\/)?[a-z0-9/-]*(\.json)?(\/\*)?$/);
    }
    for (const fn of FUNCTIONS) {
      const mounted = fn.createRoutes(untouchableDeps).routes;
      expect(mounted.length, fn.name).toBeGreaterThan(0);
      for (const r of mounted) {
        const sample = r.path.replace(/:[^/]+/g, 'x').replace(/\*$/, 'x/y');
        expect(domainTarget(sample), r.path).toBe(fn.name);
      }
    }
    expect(domainTarget('/healthz')).toBe('token');
    // Served by every function (the base app); through the domain, by the token function.
    expect(domainTarget('/metrics')).toBe('token');
    expect(domainTarget('/v1/appsx/y')).toBeUndefined();
  });

  it('runs refresh on an enabled timer every minute, and nothing else on a timer', () => {
    for (const inst of instances) {
      const timers = inst.events.filter((e) => 'timer' in e);
      expect(timers.length, inst.folder).toBe(inst.folder === 'refresh' ? 1 : 0);
    }
    const refresh = instances.find((i) => i.folder === 'refresh');
    const timer = refresh?.events.find((e) => 'timer' in e);
    const params = obj(obj(timer?.timer, 'timer').parameters, 'timer.parameters');
    expect(params.enable).toBe(true);
    const fields = String(params.cronExpression).split(' ');
    // second minute hour day month weekday year
    // (https://cloud.tencent.com/document/product/583/9708): one fixed second, every minute.
    expect(fields).toHaveLength(7);
    expect(fields[0]).toMatch(/^([0-9]|[1-5][0-9])$/);
    expect(['*', '*/1']).toContain(fields[1]);
    for (const f of fields.slice(2)) expect(['*', '?']).toContain(f);
    expect(String(params.name)).toMatch(/^[A-Za-z][A-Za-z0-9_-]{0,59}$/);
  });

  it('takes every environment value from an env reference, the same set in every function', () => {
    const known = new Set(ENV_KEYS);
    let first: string[] | undefined;
    for (const inst of instances) {
      const vars = obj(obj(inst.inputs.environment, 'environment').variables, 'variables');
      for (const [key, value] of Object.entries(vars)) {
        expect(value, `${inst.folder} ${key}`).toBe(envRef(key));
        expect(known.has(key), `${inst.folder} ${key} is a wxhub variable`).toBe(true);
      }
      const keys = Object.keys(vars).sort();
      expect(keys, inst.folder).toEqual(
        expect.arrayContaining(['DATABASE_URL', 'WXHUB_SECRET_KEY']),
      );
      // Behind a public function URL anyone can send x-wx-source: trust stays off on SCF.
      expect(keys, inst.folder).not.toContain('WXHUB_TRUST_WX_SOURCE');
      first ??= keys;
      expect(keys, inst.folder).toEqual(first);
    }
  });

  it('reaches MySQL and WeChat through the VPC and its NAT gateway, settings from env', () => {
    for (const inst of instances) {
      expect(inst.inputs.vpcConfig, inst.folder).toEqual({
        vpcId: envRef('TENCENT_VPC_ID'),
        subnetId: envRef('TENCENT_SUBNET_ID'),
      });
      expect(inst.inputs.publicAccess, inst.folder).toBe(false);
      expect(inst.inputs.region, inst.folder).toBe(envRef('TENCENT_REGION'));
    }
  });

  it('holds no literal value where configuration belongs', () => {
    // Any `${…}` in these files is an env reference; nothing else is interpolated.
    for (const inst of instances) {
      const text = readFileSync(join(inst.dir, 'serverless.yml'), 'utf8');
      for (const m of text.matchAll(/\$\{[^}]*\}/g)) {
        expect(m[0], inst.folder).toMatch(/^\$\{env:[A-Z][A-Z0-9_]*\}$/);
      }
    }
  });
});

describe('npm run deploy (scripts/deploy.ts)', () => {
  type Pkg = {
    scripts?: Record<string, string>;
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  const pkg = (dir: string) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Pkg;

  it('keeps the deploy CLI and the CloudBase SDK out of the root install', () => {
    const root = pkg(ROOT);
    const all = { ...root.dependencies, ...root.devDependencies };
    for (const name of ['@serverless/components', 'serverless-cloud-framework', 'serverless']) {
      expect(all, name).not.toHaveProperty(name);
    }
    expect(all).not.toHaveProperty('@cloudbase/node-sdk');
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, unknown>;
    };
    expect(Object.keys(lock.packages)).not.toContain('node_modules/@serverless/components');
    expect(Object.keys(lock.packages)).not.toContain('node_modules/@cloudbase/node-sdk');
    expect(root.scripts?.deploy).toBe('tsx scripts/deploy.ts');
  });

  it('installs a pinned @serverless/components from deploy/cli, with its own lockfile', () => {
    expect(pkg(CLI_DIR).dependencies).toEqual({ '@serverless/components': '3.18.2' });
    const lock = JSON.parse(readFileSync(join(CLI_DIR, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version?: string }>;
    };
    expect(lock.packages['node_modules/@serverless/components']?.version).toBe('3.18.2');
    // deploy/cli is not above an instance: the build hooks still find the root package.json.
    for (const inst of instances) expect(inst.dir.startsWith(`${CLI_DIR}/`)).toBe(false);
  });

  it('installs the CLI when missing, then deploys deploy/scf with its Tencent commands', () => {
    const [install, deploy] = deploySteps(['--stage', 'prod'], false);
    expect(install).toMatchObject({ command: 'npm', cwd: CLI_DIR });
    expect(install?.args.slice(0, 1)).toEqual(['ci']);
    expect(deploy).toMatchObject({
      args: [CLI_BIN, 'deploy', '--stage', 'prod'],
      cwd: DEPLOY_DIR,
      env: { SERVERLESS_PLATFORM_VENDOR: 'tencent' },
    });
    expect(DEPLOY_DIR).toBe(SCF_DIR);
    expect(deploySteps([], true).map((s) => s.args[1])).toEqual(['deploy']);
  });
});
