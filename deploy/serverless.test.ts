import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FUNCTIONS } from '../functions/index';
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

interface Endpoint {
  fn: string;
  path: string;
  method: string;
  raw: Yaml;
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

function apigwOf(inst: Instance): Yaml | undefined {
  const e = inst.events.find((ev) => 'apigw' in ev);
  return e === undefined ? undefined : obj(obj(e.apigw, 'apigw').parameters, 'apigw.parameters');
}

function endpointsOf(inst: Instance): Endpoint[] {
  const apigw = apigwOf(inst);
  if (apigw === undefined) return [];
  return list(apigw.endpoints, `${inst.folder}.endpoints`).map((e, i) => {
    const raw = obj(e, `${inst.folder}.endpoints[${i}]`);
    return { fn: inst.folder, path: String(raw.path), method: String(raw.method), raw };
  });
}

const allEndpoints = instances.flatMap(endpointsOf);
const names = FUNCTIONS.map((f) => f.name);

/**
 * API Gateway picks the endpoint with the longest matching plain-path prefix
 * (https://cloud.tencent.com/document/product/628/11939).
 */
function gatewayTarget(path: string, method: string): Endpoint | undefined {
  const matches = allEndpoints.filter(
    (e) =>
      (e.method === 'ANY' || e.method === method) &&
      (path === e.path || path.startsWith(e.path.endsWith('/') ? e.path : `${e.path}/`)),
  );
  return matches.sort((a, b) => b.path.length - a.path.length)[0];
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

  it('puts every function behind API Gateway with integrated response on', () => {
    for (const inst of instances) {
      const apigw = apigwOf(inst);
      expect(apigw, inst.folder).toBeDefined();
      expect(apigw?.serviceId, inst.folder).toBe(envRef('TENCENT_APIGW_SERVICE_ID'));
      expect(apigw?.protocols, inst.folder).toEqual(['https']);
      const endpoints = endpointsOf(inst);
      expect(endpoints.length, inst.folder).toBeGreaterThan(0);
      for (const e of endpoints) {
        const fn = obj(e.raw.function, `${e.fn} ${e.path}.function`);
        expect(fn.isIntegratedResponse, `${e.fn} ${e.path}`).toBe(true);
      }
    }
    const keys = allEndpoints.map((e) => `${e.method} ${e.path}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('routes each function path to the function that serves it', () => {
    const wanted: Record<string, string[]> = {
      token: ['ANY /v1/apps', 'GET /healthz'],
      proxy: ['ANY /v1/proxy'],
      refresh: ['POST /v1/refresh', 'GET /v1/outbox'],
      'wx-callback': ['ANY /wx'],
      pay: ['ANY /v1/pay'],
      'pay-notify': ['POST /pay'],
    };
    for (const inst of instances) {
      expect(
        endpointsOf(inst).map((e) => `${e.method} ${e.path}`),
        inst.folder,
      ).toEqual(wanted[inst.folder]);
    }
    // Every route the code mounts reaches its own function through the shared gateway.
    for (const fn of FUNCTIONS) {
      const routes = fn.createRoutes(untouchableDeps).routes;
      expect(routes.length, fn.name).toBeGreaterThan(0);
      for (const r of routes) {
        const sample = r.path.replace(/:[^/]+/g, 'x').replace(/\*$/, 'x/y');
        const methods = r.method === 'ALL' ? ['GET', 'POST', 'PUT', 'DELETE'] : [r.method];
        for (const m of methods) {
          expect(gatewayTarget(sample, m)?.fn, `${m} ${r.path}`).toBe(fn.name);
        }
      }
    }
    expect(gatewayTarget('/healthz', 'GET')?.fn).toBe('token');
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
      // Behind a public API Gateway anyone can send x-wx-source: trust stays off on SCF.
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
