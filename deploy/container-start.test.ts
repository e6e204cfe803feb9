import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../scripts/build-lib';
import { openTestStore, testTargets } from '../shared/store/testing';
import { wechatSignature } from '../shared/wechat/message-crypto';
import { readContainerEntry } from './dockerfile';

// Runs the image's start command (the Dockerfile's final CMD) with the image's ENV, in a folder
// laid out like the image's WORKDIR: node_modules, dist/server.mjs and dist/server-chunks/,
// drizzle/, package.json. The server bundle is made by the build `npm run build` runs.
// The image's ENV plus what a service's settings add (`env` below): one bundle, several starts.

const ROOT = resolve(import.meta.dirname, '..');
const entry = readContainerEntry();

interface Running {
  child: ChildProcess;
  url: string;
  lines: Record<string, unknown>[];
  exit: Promise<number | null>;
}

async function startImageCommand(
  workdir: string,
  env: Record<string, string> = {},
): Promise<Running> {
  const [cmd, ...args] = entry.command;
  if (cmd === undefined) throw new Error('empty CMD');
  const child = spawn(cmd, args, {
    cwd: workdir,
    // The image's variables, PORT moved off 80 (no privileges here; 0 = any free port).
    env: { PATH: process.env.PATH, ...entry.env, PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exit = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  const url = await new Promise<string>((found, fail) => {
    const timer = setTimeout(() => fail(new Error(`no "serving" line in 20 s\n${stderr}`)), 20_000);
    let buffered = '';
    child.stdout?.on('data', (d: Buffer) => {
      buffered += d.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const part of parts) {
        let line: Record<string, unknown>;
        try {
          line = JSON.parse(part) as Record<string, unknown>;
        } catch {
          line = { msg: part }; // not a pino line: kept as text
        }
        lines.push(line);
        if (line.msg === 'serving' && typeof line.url === 'string') {
          clearTimeout(timer);
          found(line.url);
        }
      }
    });
    void exit.then((code) => fail(new Error(`exited with ${code} before serving\n${stderr}`)));
  });
  return { child, url, lines, exit };
}

/** Runs the command and waits for it to exit before serving; answers its code and stderr. */
async function failedStart(
  workdir: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string }> {
  const [cmd, ...args] = entry.command;
  if (cmd === undefined) throw new Error('empty CMD');
  const child = spawn(cmd, args, {
    cwd: workdir,
    env: { PATH: process.env.PATH, ...entry.env, PORT: '0', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  // A start that serves instead is stopped (and its code is then null).
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const code = await new Promise<number | null>((done) => child.on('exit', (c) => done(c)));
  clearTimeout(timer);
  return { code, stderr };
}

async function stop(running: Running | undefined): Promise<void> {
  if (running !== undefined && running.child.exitCode === null) {
    running.child.kill('SIGKILL');
    await running.exit;
  }
}

/** Every installed package linked, better-sqlite3 copied without its built addon. */
function modulesWithoutSqliteAddon(dir: string): void {
  const from = join(ROOT, 'node_modules');
  mkdirSync(dir);
  for (const name of readdirSync(from)) {
    if (name === 'better-sqlite3') continue;
    symlinkSync(join(from, name), join(dir, name), 'dir');
  }
  cpSync(join(from, 'better-sqlite3'), join(dir, 'better-sqlite3'), {
    recursive: true,
    filter: (src) => !src.startsWith(join(from, 'better-sqlite3', 'build')),
  });
}

const API_KEY = 'image-key-0123456789abcdef';
const APP = {
  name: 'oa',
  kind: 'official',
  appId: 'wxcontainer000001',
  appSecret: 's',
  token: 'tok',
};
/** What an operator sets in a service's settings: a bearer key and one app. */
const SERVICE_ENV = {
  // WeChat out of reach: nothing leaves this machine (a closed local port).
  WECHAT_API_BASE: 'http://127.0.0.1:9',
  WXHUB_API_KEYS: API_KEY,
  WXHUB_APPS: JSON.stringify({ apps: [APP] }),
};

/** WeChat's server verification of the app's callback URL, signed with its token, now. */
function verificationPath(): string {
  const ts = String(Math.floor(Date.now() / 1000));
  const sig = wechatSignature(APP.token, ts, '7');
  return `/wx/${APP.name}/callback?timestamp=${ts}&nonce=7&echostr=echo42&signature=${sig}`;
}

let workdir: string;

beforeAll(async () => {
  workdir = mkdtempSync(join(tmpdir(), 'wxhub-image-'));
  symlinkSync(join(ROOT, 'node_modules'), join(workdir, 'node_modules'), 'dir');
  symlinkSync(join(ROOT, 'drizzle'), join(workdir, 'drizzle'), 'dir');
  copyFileSync(join(ROOT, 'package.json'), join(workdir, 'package.json'));
  mkdirSync(join(workdir, 'dist'));
  // The real server build (scripts/build-lib.ts), laid out as the image copies it.
  await buildServer(join(workdir, 'dist'));
}, 60_000);

afterAll(() => rmSync(workdir, { recursive: true, force: true }));

describe('the image start command', () => {
  let running: Running | undefined;

  beforeAll(async () => {
    running = await startImageCommand(workdir, SERVICE_ENV);
  }, 60_000);

  afterAll(() => stop(running));

  it('serves /healthz on the embedded database, migrated from ./drizzle', async () => {
    const res = await fetch(`${running?.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', db: 'ok' });
  });

  it('trusts no x-wx-source: internal routes take the bearer key only', async () => {
    const forged = await fetch(`${running?.url}/v1/refresh`, {
      method: 'POST',
      headers: { 'x-wx-source': 'x' },
    });
    expect(forged.status).toBe(401);
    const keyed = await fetch(`${running?.url}/v1/refresh`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    expect(keyed.status).toBe(200);
    expect(await keyed.json()).toMatchObject({ checked: 1 });
    // Every route is served by default (WXHUB_EXPOSE=all): WeChat's verification too.
    const verified = await fetch(`${running?.url}${verificationPath()}`);
    expect(verified.status).toBe(200);
    expect(await verified.text()).toBe('echo42');
  });

  it('drains and exits 0 on SIGTERM, as CloudRun stops it', async () => {
    running?.child.kill('SIGTERM');
    expect(await running?.exit).toBe(0);
    expect(running?.lines.some((l) => l.msg === 'stopped')).toBe(true);
  });
});

describe.each([
  { expose: 'public', trust: '0' },
  { expose: 'internal', trust: '1' },
] as const)('the image start command with WXHUB_EXPOSE=$expose', ({ expose, trust }) => {
  let running: Running | undefined;

  beforeAll(async () => {
    running = await startImageCommand(workdir, {
      ...SERVICE_ENV,
      WXHUB_EXPOSE: expose,
      WXHUB_TRUST_WX_SOURCE: trust,
    });
  }, 60_000);

  afterAll(() => stop(running));

  const call = (path: string, init: RequestInit = {}) => fetch(`${running?.url}${path}`, init);
  const bearer = { authorization: `Bearer ${API_KEY}` };

  it(`answers /v1/… ${expose === 'public' ? 'with 404' : 'to the key and x-wx-source'}`, async () => {
    const calls = [
      call('/v1/refresh', { method: 'POST', headers: bearer }),
      call('/v1/refresh', { method: 'POST', headers: { 'x-wx-source': 'cloudbase-timer' } }),
      call(`/v1/apps/${APP.name}/token`, { headers: bearer }),
    ];
    const statuses = await Promise.all(calls.map(async (r) => (await r).status));
    // On the public service the token read is hidden; on the internal one the route answers
    // (an upstream error: WeChat is out of reach here), which is anything but 404.
    if (expose === 'public') expect(statuses).toEqual([404, 404, 404]);
    else {
      expect(statuses.slice(0, 2)).toEqual([200, 200]);
      expect(statuses[2]).not.toBe(404);
    }
  });

  it(`answers /wx/… ${expose === 'public' ? "to WeChat's verification" : 'with 404'}`, async () => {
    const res = await call(verificationPath());
    if (expose === 'public') {
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('echo42');
    } else {
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    }
  });

  it('answers /healthz', async () => {
    expect((await call('/healthz')).status).toBe(200);
  });
});

describe('the image start command, refused', () => {
  it('refuses to trust x-wx-source on a public service, naming the keys and no value', async () => {
    const { code, stderr } = await failedStart(workdir, {
      WXHUB_EXPOSE: 'public',
      WXHUB_TRUST_WX_SOURCE: '1',
      ...SERVICE_ENV,
    });
    expect(code).toBe(1);
    expect(stderr).toContain('WXHUB_TRUST_WX_SOURCE: must be 0 with WXHUB_EXPOSE=public');
    expect(stderr).not.toContain(API_KEY);
  });
});

// An image built for MySQL (the default, WXHUB_SQLITE=0): better-sqlite3 installed, its addon
// never built.
describe('the image start command without the SQLite addon', () => {
  let mysqlWorkdir: string;
  beforeAll(() => {
    mysqlWorkdir = mkdtempSync(join(tmpdir(), 'wxhub-image-mysql-'));
    modulesWithoutSqliteAddon(join(mysqlWorkdir, 'node_modules'));
    symlinkSync(join(ROOT, 'drizzle'), join(mysqlWorkdir, 'drizzle'), 'dir');
    // A copy: Node resolves packages from the real path of the bundle.
    cpSync(join(workdir, 'dist'), join(mysqlWorkdir, 'dist'), { recursive: true });
    copyFileSync(join(ROOT, 'package.json'), join(mysqlWorkdir, 'package.json'));
  });
  afterAll(() => rmSync(mysqlWorkdir, { recursive: true, force: true }));

  it('fails to start on the embedded database, saying how to get one', async () => {
    const { code, stderr } = await failedStart(mysqlWorkdir, {});
    expect(code).toBe(1);
    expect(stderr).toContain("needs better-sqlite3's native addon");
    expect(stderr).toContain('WXHUB_SQLITE=1');
  });

  it.each(testTargets().filter((t) => t.config.dialect === 'mysql'))(
    'serves on MySQL ($name)',
    async (target) => {
      if (target.config.dialect !== 'mysql') return;
      const opened = await openTestStore(target);
      await opened.store.close();
      const running = await startImageCommand(mysqlWorkdir, {
        DATABASE_URL: target.config.url,
        WXHUB_SECRET_KEY: randomBytes(32).toString('base64'),
      });
      try {
        const res = await fetch(`${running.url}/healthz`);
        expect(await res.json()).toEqual({ status: 'ok', db: 'ok' });
      } finally {
        await stop(running);
      }
    },
    30_000,
  );
});
