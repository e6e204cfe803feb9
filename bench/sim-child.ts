import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SimRequest } from './sim-process';

type SimMessage =
  | { ready: true; url: string }
  | { ok: true; value: unknown }
  | { ok: false; error: string };

/** A simulator in a child process (./sim-process.ts) on clock `startMs`, driven over IPC. */
export interface SimChild {
  url: string;
  call<T>(m: SimRequest): Promise<T>;
  close(): void;
}

export async function startSimProcess(startMs: number): Promise<SimChild> {
  const child = fork(
    fileURLToPath(new URL('./sim-process.ts', import.meta.url)),
    [String(startMs)],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // Heap flags given to the hub's process (NODE_OPTIONS) are not the simulator's.
      env: { ...process.env, NODE_OPTIONS: '' },
    },
  );
  const next = () =>
    new Promise<SimMessage>((resolve, reject) => {
      const onExit = (code: number | null) =>
        reject(new Error(`simulator process exited (${code ?? 'signal'}) before answering`));
      child.once('exit', onExit);
      child.once('message', (m: SimMessage) => {
        child.off('exit', onExit);
        resolve(m);
      });
    });
  const ready = await next();
  if (!('ready' in ready)) throw new Error('simulator process answered out of turn');
  // One request at a time: each waits for the previous answer.
  let queue: Promise<unknown> = Promise.resolve();
  return {
    url: ready.url,
    call<T>(m: SimRequest): Promise<T> {
      const run = queue.then(async () => {
        const answer = next();
        child.send(m);
        const got = await answer;
        if ('ready' in got) throw new Error('simulator process answered out of turn');
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
