import { fork } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import type { HubRequest } from './hub-process';

type HubMessage =
  | { ready: true; url: string }
  | { ok: true; value: unknown }
  | { ok: false; error: string };

/** The hub in a child process (./hub-process.ts, bundled and run under plain `node`). */
export interface HubChild {
  url: string;
  call<T>(m: HubRequest): Promise<T>;
  close(): void;
}

const OUT_DIR = resolve('dist/bench-hub');

/**
 * Bundles ./hub-process.ts the way `npm run build` bundles dist/server.mjs (esbuild, ESM, packages
 * left to node_modules) into dist/bench-hub, once per run.
 */
let built: Promise<string> | undefined;
function bundle(): Promise<string> {
  built ??= (async () => {
    rmSync(OUT_DIR, { recursive: true, force: true });
    mkdirSync(OUT_DIR, { recursive: true });
    await build({
      entryPoints: { 'hub-process': 'bench/hub-process.ts' },
      outdir: OUT_DIR,
      bundle: true,
      splitting: true,
      outExtension: { '.js': '.mjs' },
      platform: 'node',
      target: 'node20',
      format: 'esm',
      packages: 'external',
      logLevel: 'warning',
    });
    return join(OUT_DIR, 'hub-process.mjs');
  })();
  return built;
}

/**
 * Starts the hub on clock `startMs` with `env` (DATABASE_URL, WXHUB_SECRET_KEY, …) under plain
 * `node` (no tsx loader; NODE_OPTIONS as given to the bench), driven over IPC.
 */
export async function startHubProcess(
  startMs: number,
  env: Record<string, string>,
): Promise<HubChild> {
  const file = await bundle();
  const child = fork(file, [String(startMs)], {
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...env },
  });
  const next = () =>
    new Promise<HubMessage>((resolve, reject) => {
      const onExit = (code: number | null) =>
        reject(new Error(`hub process exited (${code ?? 'signal'}) before answering`));
      child.once('exit', onExit);
      child.once('message', (m: HubMessage) => {
        child.off('exit', onExit);
        resolve(m);
      });
    });
  const ready = await next();
  if (!('ready' in ready)) throw new Error('hub process answered out of turn');
  let queue: Promise<unknown> = Promise.resolve();
  return {
    url: ready.url,
    call<T>(m: HubRequest): Promise<T> {
      const run = queue.then(async () => {
        const answer = next();
        child.send(m);
        const got = await answer;
        if ('ready' in got) throw new Error('hub process answered out of turn');
        if (!got.ok) throw new Error(got.error);
        return got.value as T;
      });
      queue = run.catch(() => undefined);
      return run;
    },
    close: () => {
      child.kill();
    },
  };
}
