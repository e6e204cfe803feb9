import { Agent, request } from 'node:http';

/**
 * Closed-loop HTTP load on loopback: `concurrency` keep-alive clients each send the next request
 * as soon as the previous answer is read, for `durationMs`. Returns answered requests per second
 * (non-2xx answers count as errors and make the run throw).
 */
export async function httpLoad(opts: {
  url: string;
  headers?: Record<string, string>;
  concurrency: number;
  durationMs: number;
  /** Per-request POST (path and body) instead of GETs of `url`; its cost is the client's. */
  next?: () => { path: string; body: string; headers?: Record<string, string> };
}): Promise<number> {
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
  const elapsed = performance.now() - started;
  agent.destroy();
  return (done / elapsed) * 1000;
}
