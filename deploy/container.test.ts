import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseConfig } from '../shared/config';
import { ENV_KEYS } from '../shared/config/env';
import {
  containerEntry,
  DOCKERFILE_PATH,
  execForm,
  parseDockerfile,
  readContainerEntry,
  type Stage,
  splitWords,
  stageEnv,
} from './dockerfile';

// The WeChat CloudRun image (Dockerfile) and its service settings (container.config.json),
// checked against the fields of WeChat's template and schema (below) and against each other.

const ROOT = resolve(import.meta.dirname, '..');

// The fields the official templates carry, with their types: container.config.json of
// https://github.com/WeixinCloud/wxcloudrun-express and the schema
// https://dldir1.qq.com/WechatWebDev/editor-extension/wx-json/container.config.schema.json.
const policy = z.enum(['cpu', 'mem']);
const containerConfigSchema = z.strictObject({
  containerPort: z.number().int().min(1).max(65535),
  dockerfilePath: z.string().min(1),
  buildDir: z.string(),
  minNum: z.number().int().min(0).max(50),
  maxNum: z.number().int().min(1).max(50),
  cpu: z.number().positive(),
  mem: z.number().positive(),
  policyType: policy,
  policyThreshold: z.number().int().min(1).max(100),
  policyDetails: z.array(
    z.strictObject({ PolicyType: policy, PolicyThreshold: z.number().int().min(1).max(100) }),
  ),
  envParams: z.record(z.string(), z.string()),
  customLogs: z.string(),
  initialDelaySeconds: z.number().int().min(0),
  dataBaseName: z.string().regex(/^[A-Za-z0-9_]{1,64}$/),
  executeSQLs: z.array(z.string()).min(1),
});

const config = containerConfigSchema.parse(
  JSON.parse(readFileSync(join(ROOT, 'container.config.json'), 'utf8')),
);
const dockerfile = readFileSync(DOCKERFILE_PATH, 'utf8');
const stages = parseDockerfile(dockerfile);
const entry = readContainerEntry();
/** Every instruction of every stage, comments left out. */
const instructionText = stages
  .flatMap((s) => s.instructions.map((i) => `${i.keyword} ${i.args}`))
  .join('\n');

function runs(stage: Stage | undefined, pattern: RegExp): boolean {
  return (stage?.instructions ?? []).some((i) => i.keyword === 'RUN' && pattern.test(i.args));
}

function copiesFrom(stage: Stage, dest: RegExp): string[] {
  return stage.instructions
    .filter((i) => i.keyword === 'COPY')
    .map((i) => splitWords(i.args))
    .filter((w) => dest.test(w.at(-1) ?? ''))
    .map((w) => (w.find((x) => x.startsWith('--from=')) ?? '').slice('--from='.length));
}

describe('container.config.json', () => {
  it('points at the Dockerfile in the build directory', () => {
    expect(existsSync(join(ROOT, config.buildDir, config.dockerfilePath))).toBe(true);
    expect(join(ROOT, config.buildDir, config.dockerfilePath)).toBe(DOCKERFILE_PATH);
  });

  it('uses one port for containerPort, EXPOSE and ENV PORT', () => {
    expect(entry.exposedPorts).toEqual([config.containerPort]);
    expect(entry.env.PORT).toBe(String(config.containerPort));
    expect(config.containerPort).toBe(80);
  });

  it('creates the database it names, in utf8mb4, and wxhub connects to that one', () => {
    const db = config.dataBaseName;
    expect(config.executeSQLs[0]).toBe(
      `CREATE DATABASE IF NOT EXISTS ${db} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;`,
    );
    expect(config.executeSQLs).toContain(`USE ${db};`);
    // Tables come from the migrations at start, not from executeSQLs.
    expect(config.executeSQLs.join(' ')).not.toMatch(/CREATE TABLE/i);
    expect(config.envParams.MYSQL_DATABASE).toBe(db);
  });

  it('trusts no x-wx-source, serves every route, and carries no secret value', () => {
    // CloudRun's public access lets anyone send X-WX-* headers: trust is for a service with
    // public access off, switched on in that service's settings (docs/deploy.md).
    expect(config.envParams.WXHUB_TRUST_WX_SOURCE ?? '0').toBe('0');
    expect(config.envParams.WXHUB_EXPOSE ?? 'all').toBe('all');
    for (const k of ['WXHUB_SECRET_KEY', 'WXHUB_API_KEYS', 'WXHUB_APPS', 'MYSQL_PASSWORD']) {
      expect(config.envParams[k] ?? '', k).toBe('');
    }
    const known = new Set(ENV_KEYS);
    for (const k of Object.keys(config.envParams)) expect(known.has(k), k).toBe(true);
  });

  it('keeps an instance up for the in-process refresh schedule, within sane scaling', () => {
    expect(config.minNum).toBeGreaterThanOrEqual(1);
    expect(config.maxNum).toBeGreaterThanOrEqual(config.minNum);
    // CPU/memory pairs CloudRun offers
    // (https://developers.weixin.qq.com/minigame/dev/wxcloud/guide/container/concept.md).
    const memRange: Record<string, [number, number]> = {
      '0.25': [0.5, 2],
      '0.5': [1, 4],
      '1': [1, 8],
      '2': [4, 16],
      '4': [8, 32],
    };
    const [lo, hi] = memRange[String(config.cpu)] ?? [Number.NaN, Number.NaN];
    expect(config.mem).toBeGreaterThanOrEqual(lo);
    expect(config.mem).toBeLessThanOrEqual(hi);
    expect(config.policyDetails.map((p) => p.PolicyType)).toContain(config.policyType);
  });

  it('starts wxhub on MySQL with what CloudRun injects, the image ENV and envParams', () => {
    const parsed = parseConfig({
      ...entry.env,
      ...config.envParams,
      // Injected by a template deploy that provisions MySQL
      // (https://developers.weixin.qq.com/minigame/dev/wxcloudrun/src/development/weixin/).
      MYSQL_ADDRESS: '10.0.0.8:3306',
      MYSQL_USERNAME: 'root',
      MYSQL_PASSWORD: 'p@ss:word',
      // Set by the operator in the service settings.
      WXHUB_SECRET_KEY: Buffer.alloc(32, 7).toString('base64'),
    });
    expect(parsed.port).toBe(config.containerPort);
    expect(parsed.trustWxSource).toBe(false);
    expect(parsed.expose).toBe('all');
    expect(parsed.database).toEqual({
      dialect: 'mysql',
      url: `mysql://root:p%40ss%3Aword@10.0.0.8:3306/${config.dataBaseName}`,
    });
  });
});

describe('Dockerfile', () => {
  const final = stages.at(-1);
  const byName = (name: string) => stages.find((s) => s.name === name);

  it('starts exactly what npm start runs, as a non-root user', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(entry.command).toEqual(['node', 'dist/server.mjs']);
    expect(entry.command).toEqual(splitWords(pkg.scripts.start ?? ''));
    expect(entry.user).toBeDefined();
    expect(['root', '0', '0:0']).not.toContain(entry.user);
  });

  it('leaves trust and exposure to the service settings: no x-wx-source trusted by default', () => {
    expect(entry.env.WXHUB_TRUST_WX_SOURCE).toBeUndefined();
    expect(entry.env.WXHUB_EXPOSE).toBeUndefined();
    expect(parseConfig({ ...entry.env })).toMatchObject({ trustWxSource: false, expose: 'all' });
    // No stage bakes trust in either (an ARG or ENV of an earlier stage, or a RUN exporting it).
    expect(instructionText).not.toMatch(/WXHUB_TRUST_WX_SOURCE/);
  });

  it('builds with dev dependencies and runs with production ones only', () => {
    expect(final).toBeDefined();
    if (final === undefined) return;
    const [modulesFrom] = copiesFrom(final, /node_modules\/?$/);
    const prod = byName(modulesFrom ?? '');
    expect(prod, 'node_modules come from a named stage').toBeDefined();
    expect(runs(prod, /\bnpm ci\b.*--omit=dev/)).toBe(true);
    const [distFrom] = copiesFrom(final, /dist\/?$/);
    const build = byName(distFrom ?? '');
    expect(runs(build, /\bnpm ci\b(?!.*--omit)/)).toBe(true);
    expect(runs(build, /\bnpm run build\b/)).toBe(true);
    expect(copiesFrom(final, /drizzle\/?$/)).toHaveLength(1);
    // The server's lazily loaded parts (each dialect's driver and store) come with it.
    expect(copiesFrom(final, /dist\/server-chunks\/?$/)).toEqual([distFrom]);
    // Nothing is installed in the runtime stage itself.
    expect(runs(final, /\bnpm (ci|install|i)\b/)).toBe(false);
  });

  it('runs no install script, and builds the native addon only for the embedded database', () => {
    // Every `npm ci` skips install scripts: better-sqlite3 (the only production package with
    // one) is not compiled for an image on MySQL; the build runs esbuild's alone.
    const installs = stages.flatMap((s) =>
      s.instructions
        .filter((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args))
        .map((i) => [s.name, i.args] as const),
    );
    expect(installs.map(([name]) => name)).toEqual(['build', 'prod-deps']);
    for (const [name, args] of installs) expect(args, name).toMatch(/--ignore-scripts\b/);
    expect(runs(byName('build'), /\bnpm rebuild esbuild\b/)).toBe(true);
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { hasInstallScript?: boolean; dev?: boolean }>;
    };
    const prodScripts = Object.entries(lock.packages)
      .filter(([, p]) => p.hasInstallScript === true && p.dev !== true)
      .map(([path]) => path);
    expect(prodScripts).toEqual(['node_modules/better-sqlite3']);
    // The addon and its toolchain only behind WXHUB_SQLITE=1 (default 0), in prod-deps.
    const prod = byName('prod-deps');
    const arg = prod?.instructions.find((i) => i.keyword === 'ARG');
    expect(arg?.args).toBe('WXHUB_SQLITE=0');
    const addon = prod?.instructions.filter((i) => /better-sqlite3|g\+\+|node-gyp/.test(i.args));
    expect(addon?.length).toBe(1);
    expect(addon?.[0]?.args).toMatch(
      /^if \[ "\$WXHUB_SQLITE" = "1" \]; then .*python3 make g\+\+.*npm rebuild better-sqlite3; fi$/,
    );
    for (const s of stages.filter((x) => x !== prod)) {
      expect(runs(s, /better-sqlite3|g\+\+|node-gyp|python3/), s.name).toBe(false);
    }
  });

  it('builds the native addon, when asked, on the base image it runs on', () => {
    // better-sqlite3 must be built against the runtime's glibc and Node ABI: every stage that
    // installs packages descends from the final stage's base image.
    const baseOf = (s: Stage | undefined): string | undefined => {
      const parent = stages.find((p) => p.name === s?.from);
      return parent === undefined ? s?.from : baseOf(parent);
    };
    const base = baseOf(final);
    expect(base).toMatch(/^node:20[.\w-]*/);
    for (const s of stages.filter((x) => runs(x, /\bnpm (ci|rebuild)\b/))) {
      expect(baseOf(s), s.name).toBe(base);
    }
  });

  it('installs no deploy tooling in any stage', () => {
    // The deploy CLIs run on the operator's machine, never in the image build.
    // Packages come from the lock file alone (`npm ci`), never added by name.
    expect(instructionText).not.toMatch(
      /serverless|@cloudbase|\btcb\b|npm (i|install|add)\b|npx\b/i,
    );
  });

  it('keeps secrets and local state out of the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split(/\r?\n/);
    for (const p of ['**/node_modules', '.data', '.git', '**/.env', '**/.env.*']) {
      expect(ignored, p).toContain(p);
    }
    expect(ignored).not.toContain('drizzle');
  });
});

describe('dockerfile.ts', () => {
  it('parses continuations, comments, ARG defaults, ENV forms and exec-form CMD', () => {
    const text = [
      'ARG BASE=node:20-slim',
      'FROM $BASE AS one',
      'RUN a \\',
      '  # a comment inside a continuation',
      '  && b',
      'FROM one',
      'ENV A=1 B="two words"',
      'ENV LEGACY value',
      'EXPOSE 8080',
      'USER app',
      'CMD ["node", "x.mjs"]',
    ].join('\n');
    const parsed = parseDockerfile(text);
    expect(parsed.map((s) => [s.name, s.from])).toEqual([
      ['one', 'node:20-slim'],
      [undefined, 'one'],
    ]);
    expect(parsed[0]?.instructions[0]).toEqual({ keyword: 'RUN', args: 'a && b', line: 3 });
    expect(stageEnv(parsed[1] as Stage)).toEqual({ A: '1', B: 'two words', LEGACY: 'value' });
    expect(containerEntry(text)).toEqual({
      command: ['node', 'x.mjs'],
      env: { A: '1', B: 'two words', LEGACY: 'value' },
      exposedPorts: [8080],
      user: 'app',
      workdir: undefined,
    });
    expect(execForm('node x.mjs')).toBeUndefined();
    expect(() => containerEntry('FROM x\nCMD node x.mjs')).toThrow(/exec form/);
  });
});
