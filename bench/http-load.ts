import { fork } from 'node:child_process';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';

/** A load run that can be sent to the load process: GETs of `url`. */
export interface LoadSpec {
  url: string;
  headers?: Record<string, string>;
  concurrency: number;
  durationMs: number;
}

export interface HttpLoadOptions extends LoadSpec {
  /** Per-request POST (path and body) instead of GETs of `url`; its cost is the client's. */
  next?: () => { path: string; body: string; headers?: Record<string, string> };
}

/**
 * Closed-loop HTTP load on loopback: `concurrency` keep-alive clients each send the next request
 * as soon as the previous answer is read, for `durationMs`. Returns answered requests per second
 * (non-2xx answers count as errors and make the run throw).
 */
export async function httpLoad(opts: HttpLoadOptions): Promise<number> {
  const { requests, ms } = await countedLoad(opts);
  return (requests / ms) * 1000;
}

/** {@link httpLoad}'s run: requests answered and the wall time they took. */
export async function countedLoad(opts: HttpLoadOptions): Promise<LoadRun> {
  const agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const target = new URL(opts.url);
  const one = () =>
    new Promise<number>((resolve, reject) => {
      const post = opts.next?.();
      const req = request(
        {
          agent,
          hostname: target.hostname,
          port: target.port,
          path: post?.path ?? `${target.pathname}${target.search}`,
          method: post === undefined ? 'GET' : 'POST',
          headers:
            post?.headers === undefined ? opts.headers : { ...opts.headers, ...post.headers },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(post?.body);
    });
  let done = 0;
  const deadline = performance.now() + opts.durationMs;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      while (performance.now() < deadline) {
        const status = await one();
        if (status < 200 || status >= 300) throw new Error(`${opts.url} answered ${status}`);
        done += 1;
      }
    }),
  );
  const ms = performance.now() - started;
  agent.destroy();
  return { requests: done, ms };
}

/** What one {@link countedLoad} run did: requests answered and the wall time taken. */
export interface LoadRun {
  requests: number;
  ms: number;
}

export interface LoadProcess {
  run(spec: LoadSpec): Promise<LoadRun>;
  close(): void;
}

type LoadMessage =
  | { ready: true }
  | { ok: true; requests: number; ms: number }
  | { ok: false; error: string };

/**
 * Starts the load generator in a process of its own (`bench/load-process.ts`, same loader as
 * this one), so the server's process does only the server's work and its CPU time can be
 * measured. Runs are sent one at a time.
 */
export async function startLoadProcess(): Promise<LoadProcess> {
  const child = fork(fileURLToPath(new URL('./load-process.ts', import.meta.url)), {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = () =>
    new Promise<LoadMessage>((resolve, reject) => {
      const onExit = (code: number | null) =>
        reject(new Error(`load process exited (${code ?? 'signal'}) before answering`));
      const onError = (err: Error) => reject(new Error(`load process: ${err.message}`));
      child.once('exit', onExit);
      child.once('error', onError);
      child.once('message', (m: LoadMessage) => {
        child.off('exit', onExit);
        child.off('error', onError);
        resolve(m);
      });
    });
  await next();
  return {
    run: async (spec) => {
      const answer = next();
      child.send(spec);
      const m = await answer;
      if ('ready' in m) throw new Error('load process answered out of turn');
      if (!m.ok) throw new Error(m.error);
      return { requests: m.requests, ms: m.ms };
    },
    close: () => {
      child.kill();
    },
  };
}
