import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../scripts/build-lib';
import { readContainerEntry } from './dockerfile';

// Runs the image's start command (the Dockerfile's final CMD) with the image's ENV, in a folder
// laid out like the image's WORKDIR: node_modules, dist/server.mjs and dist/server-chunks/,
// drizzle/, package.json. The server bundle is made by the build `npm run build` runs.

const ROOT = resolve(import.meta.dirname, '..');
const entry = readContainerEntry();

interface Running {
  child: ChildProcess;
  url: string;
  lines: Record<string, unknown>[];
  exit: Promise<number | null>;
}

async function startImageCommand(workdir: string): Promise<Running> {
  const [cmd, ...args] = entry.command;
  if (cmd === undefined) throw new Error('empty CMD');
  const child = spawn(cmd, args, {
    cwd: workdir,
    // The image's variables, PORT moved off 80 (no privileges here; 0 = any free port).
    env: { PATH: process.env.PATH, ...entry.env, PORT: '0', LOG_LEVEL: 'info' },
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

describe('the image start command', () => {
  let workdir: string;
  let running: Running | undefined;

  beforeAll(async () => {
    workdir = mkdtempSync(join(tmpdir(), 'wxhub-image-'));
    symlinkSync(join(ROOT, 'node_modules'), join(workdir, 'node_modules'), 'dir');
    symlinkSync(join(ROOT, 'drizzle'), join(workdir, 'drizzle'), 'dir');
    copyFileSync(join(ROOT, 'package.json'), join(workdir, 'package.json'));
    mkdirSync(join(workdir, 'dist'));
    // The real server build (scripts/build-lib.ts), laid out as the image copies it.
    await buildServer(join(workdir, 'dist'));
    running = await startImageCommand(workdir);
  }, 60_000);

  afterAll(async () => {
    if (running !== undefined && running.child.exitCode === null) {
      running.child.kill('SIGKILL');
      await running.exit;
    }
    rmSync(workdir, { recursive: true, force: true });
  });

  it('serves /healthz on the embedded database, migrated from ./drizzle', async () => {
    const res = await fetch(`${running?.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', db: 'ok' });
  });

  it('trusts x-wx-source, as the image sets WXHUB_TRUST_WX_SOURCE=1', async () => {
    const refused = await fetch(`${running?.url}/v1/refresh`, { method: 'POST' });
    expect(refused.status).toBe(401);
    const trusted = await fetch(`${running?.url}/v1/refresh`, {
      method: 'POST',
      headers: { 'x-wx-source': 'cloudbase-timer' },
    });
    expect(trusted.status).toBe(200);
    expect(await trusted.json()).toMatchObject({ checked: 0, refreshed: 0, failed: [] });
  });

  it('drains and exits 0 on SIGTERM, as CloudRun stops it', async () => {
    running?.child.kill('SIGTERM');
    expect(await running?.exit).toBe(0);
    expect(running?.lines.some((l) => l.msg === 'stopped')).toBe(true);
  });
});
