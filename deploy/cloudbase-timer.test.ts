import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The CloudBase timer function (deploy/cloudbase-timer) with a fake callContainer in place of
// @cloudbase/node-sdk: what it sends, what it logs and how it fails.

interface ContainerCall {
  name: string;
  method: 'POST';
  path: string;
  header: Record<string, string>;
  data: Record<string, never>;
}
interface ContainerAnswer {
  requestId?: string;
  statusCode: number;
  data?: unknown;
}
interface ContainerCaller {
  callContainer(call: ContainerCall, opts: { timeout: number }): Promise<ContainerAnswer>;
}
interface RefreshSummary {
  checked: number | null;
  refreshed: number | null;
  failed: { app?: string; credential?: string; error?: string }[];
}
interface TimerModule {
  REFRESH_PATH: string;
  main: (event?: unknown) => Promise<RefreshSummary>;
  createHandler(deps: {
    env?: Record<string, string | undefined>;
    init?: (envId: string | undefined) => ContainerCaller;
    log?: { log(line: string): void; warn(line: string): void };
  }): (event?: unknown) => Promise<RefreshSummary>;
}

const DIR = join(import.meta.dirname, 'cloudbase-timer');
// CommonJS on purpose: it is the function's code exactly as CloudBase runs it.
const timer = createRequire(import.meta.url)(join(DIR, 'index.js')) as TimerModule;

const TIMER_EVENT = { Type: 'Timer', TriggerName: 'wxhub-refresh', Time: '2026-11-21T10:00:00Z' };

function setup(answer: ContainerAnswer | Error, env: Record<string, string> = {}) {
  const calls: { call: ContainerCall; opts: { timeout: number } }[] = [];
  const inits: (string | undefined)[] = [];
  const lines: { level: 'log' | 'warn'; line: string }[] = [];
  const handler = timer.createHandler({
    env: { WXHUB_CLOUDRUN_SERVICE: 'wxhub', ...env },
    init: (envId) => {
      inits.push(envId);
      return {
        async callContainer(call, opts) {
          calls.push({ call, opts });
          if (answer instanceof Error) throw answer;
          return answer;
        },
      };
    },
    log: {
      log: (line) => lines.push({ level: 'log', line }),
      warn: (line) => lines.push({ level: 'warn', line }),
    },
  });
  return { handler, calls, inits, lines };
}

const OK = {
  requestId: 'r-1',
  statusCode: 200,
  data: { checked: 4, refreshed: 1, failed: [], outbox: { delivered: 0 } },
};

describe('CloudBase timer function', () => {
  it('POSTs /v1/refresh to the named service, marked as an internal caller', async () => {
    const { handler, calls, inits, lines } = setup(OK);
    await expect(handler(TIMER_EVENT)).resolves.toEqual({ checked: 4, refreshed: 1, failed: [] });
    expect(timer.REFRESH_PATH).toBe('/v1/refresh');
    expect(calls).toEqual([
      {
        call: {
          name: 'wxhub',
          method: 'POST',
          path: '/v1/refresh',
          header: { 'x-wx-source': 'cloudbase-timer' },
          data: {},
        },
        opts: { timeout: 50_000 },
      },
    ]);
    // No env id configured: the SDK's "current environment" (this function's).
    expect(inits).toEqual([undefined]);
    expect(lines.map((l) => [l.level, JSON.parse(l.line)])).toEqual([
      [
        'log',
        {
          msg: 'refresh pass',
          trigger: 'wxhub-refresh',
          service: 'wxhub',
          checked: 4,
          refreshed: 1,
          failed: 0,
        },
      ],
    ]);
  });

  it('uses the configured environment and timeout, and creates the app once', async () => {
    const { handler, calls, inits } = setup(OK, {
      WXHUB_CLOUDRUN_ENV: 'prod-1a2b',
      WXHUB_REFRESH_TIMEOUT_MS: '20000',
    });
    await handler(TIMER_EVENT);
    await handler(TIMER_EVENT);
    expect(inits).toEqual(['prod-1a2b']);
    expect(calls.map((c) => c.opts.timeout)).toEqual([20_000, 20_000]);
  });

  it('warns about credentials the pass could not refresh, without failing the run', async () => {
    const failed = [{ app: 'shop-mp', credential: 'access_token', error: '40164 ip not allowed' }];
    const { handler, lines } = setup({
      statusCode: 200,
      data: { checked: 2, refreshed: 0, failed },
    });
    await expect(handler(TIMER_EVENT)).resolves.toMatchObject({ failed });
    expect(lines.at(-1)?.level).toBe('warn');
    expect(JSON.parse(lines.at(-1)?.line ?? '{}')).toEqual({
      msg: 'credentials not refreshed',
      failed,
    });
  });

  it('fails the run when the service answers an error, with its code and a hint', async () => {
    const { handler } = setup({
      requestId: 'r-2',
      statusCode: 401,
      data: { error: { code: 'UNAUTHORIZED', message: 'missing key', requestId: 'x' } },
    });
    await expect(handler(TIMER_EVENT)).rejects.toThrow(
      'POST /v1/refresh on CloudRun service "wxhub" answered 401 UNAUTHORIZED: the call was not ' +
        'trusted; run the service with WXHUB_TRUST_WX_SOURCE=1 (request r-2)',
    );
    const down = setup({ statusCode: 503, data: '<html>bad gateway</html>' });
    await expect(down.handler(TIMER_EVENT)).rejects.toThrow(/answered 503 \(request unknown\)$/);
  });

  it('fails the run when the call itself fails, keeping the cause', async () => {
    const cause = new Error('ECONNRESET');
    const { handler } = setup(cause);
    const err = await handler(TIMER_EVENT).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe(
      'POST /v1/refresh on CloudRun service "wxhub" failed: ECONNRESET',
    );
    expect((err as Error).cause).toBe(cause);
  });

  it('names a missing or bad setting before calling anything', async () => {
    const none = setup(OK, { WXHUB_CLOUDRUN_SERVICE: ' ' });
    await expect(none.handler(TIMER_EVENT)).rejects.toThrow(/^WXHUB_CLOUDRUN_SERVICE: /);
    const bad = setup(OK, { WXHUB_REFRESH_TIMEOUT_MS: '5s' });
    await expect(bad.handler(TIMER_EVENT)).rejects.toThrow(/^WXHUB_REFRESH_TIMEOUT_MS: /);
    expect([...none.calls, ...bad.calls]).toEqual([]);
  });

  it('ships an every-minute timer trigger and pins the SDK it calls', () => {
    const config = JSON.parse(readFileSync(join(DIR, 'config.json'), 'utf8')) as {
      triggers: { name: string; type: string; config: string }[];
    };
    // One trigger per function, 7-field cron
    // (https://developers.weixin.qq.com/miniprogram/dev/wxcloudservice/wxcloud/guide/functions/triggers.md).
    expect(config.triggers).toHaveLength(1);
    const [trigger] = config.triggers;
    expect(trigger?.type).toBe('timer');
    const fields = (trigger?.config ?? '').split(' ');
    expect(fields).toHaveLength(7);
    expect(fields[0]).toBe('0');
    expect(['*', '*/1']).toContain(fields[1]);
    for (const f of fields.slice(2)) expect(['*', '?']).toContain(f);

    const pkg = JSON.parse(readFileSync(join(DIR, 'package.json'), 'utf8')) as {
      main: string;
      dependencies: Record<string, string>;
    };
    expect(pkg.main).toBe('index.js');
    expect(pkg.dependencies['@cloudbase/node-sdk']).toMatch(/^\d+\.\d+\.\d+$/);
    expect(typeof timer.main).toBe('function');
  });
});
