import { z } from 'zod';

/** A scripted failure for the next matching call(s) to a WeChat path. */
export interface SimFault {
  /** Endpoint path, e.g. `/cgi-bin/token`. */
  path: string;
  /** Only calls for this app match (appid param, owner of the access_token; mchid on `/v3/`). */
  appId?: string;
  /** Answer this errcode (HTTP 200 unless `status` is also set). Not for `/v3/` (pay) paths. */
  errcode?: number;
  /** Override the default errmsg for `errcode`; on `/v3/` paths, the `message` of the answer. */
  errmsg?: string;
  /**
   * `/v3/` (WeChat Pay) paths only: answer `{code, message}` with this code (e.g. `SYSTEM_ERROR`,
   * `FREQUENCY_LIMITED`), signed like every pay answer; HTTP status from the code unless `status`.
   */
  code?: string;
  /**
   * Answer this HTTP status (text/html body, or the errcode JSON when `errcode` is set; on `/v3/`
   * paths a signed `{code, message}` with the code WeChat Pay uses for that status).
   */
  status?: number;
  /** Wait this many real milliseconds first; alone it only delays the normal answer. */
  delayMs?: number;
  /** How many matching calls the fault applies to; default 1. */
  times?: number;
  /** Answer `302 Found` with this `Location` instead. */
  redirect?: string;
  /** Extra response headers on the answer (e.g. `set-cookie`), added to the usual ones. */
  headers?: Record<string, string>;
  /** Replace the answer's body with this many bytes (a JSON object padded to size, sent lazily). */
  bodyBytes?: number;
  /** Content type of a `bodyBytes` answer; default `application/json; encoding=utf-8`. */
  contentType?: string;
  /** Send a `bodyBytes` answer chunked, without `content-length`. */
  chunked?: boolean;
  /**
   * Send the headers and the first this-many bytes of the answer's body, then stall until the
   * caller hangs up (the body never ends).
   */
  stallAfterBytes?: number;
}

/** True for WeChat Pay API v3 paths, which the simulator serves next to the WeChat ones. */
export function isPayPath(path: string): boolean {
  return path.startsWith('/v3/');
}

/** Validation schema for {@link SimFault} (used by `injectFault` and `POST /__sim/faults`). */
export const simFaultSchema = z
  .strictObject({
    path: z.string().startsWith('/', 'path must start with "/"'),
    appId: z.string().min(1).optional(),
    errcode: z.number().int().optional(),
    errmsg: z.string().optional(),
    code: z
      .string()
      .regex(/^[A-Z][A-Z0-9_]*$/, 'code must be an upper-case WeChat Pay code')
      .optional(),
    status: z.number().int().min(100).max(599).optional(),
    delayMs: z.number().int().min(0).max(600_000).optional(),
    times: z.number().int().min(1).optional(),
    redirect: z.string().min(1).optional(),
    headers: z.record(z.string(), z.string()).optional(),
    bodyBytes: z.number().int().min(16).optional(),
    contentType: z.string().min(1).optional(),
    chunked: z.boolean().optional(),
    stallAfterBytes: z.number().int().min(0).optional(),
  })
  .superRefine((f, ctx) => {
    if (isPayPath(f.path) && f.errcode !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['errcode'],
        message: 'errcode is for WeChat API paths; use code (e.g. SYSTEM_ERROR) on /v3/ paths',
      });
    }
    if (!isPayPath(f.path) && f.code !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['code'], message: 'code is only for /v3/ paths' });
    }
  });

/** Wait the fault's `delayMs` (real time), if any. */
export async function waitFaultDelay(f: SimFault): Promise<void> {
  if (f.delayMs) await new Promise<void>((resolve) => setTimeout(resolve, f.delayMs));
}

interface QueuedFault {
  fault: SimFault;
  remaining: number;
}

/** FIFO fault queues per path. */
export class FaultBook {
  private readonly queues = new Map<string, QueuedFault[]>();

  /** Validate and enqueue a fault; throws a ZodError on bad input. */
  add(fault: SimFault): void {
    const parsed = simFaultSchema.parse(fault);
    const queue = this.queues.get(parsed.path) ?? [];
    queue.push({ fault: parsed, remaining: parsed.times ?? 1 });
    this.queues.set(parsed.path, queue);
  }

  /**
   * Consume one use of the first fault queued for `path` that matches `appId`
   * (a fault without appId matches every call). Returns undefined when none matches.
   */
  take(path: string, appId: string | undefined): SimFault | undefined {
    const queue = this.queues.get(path);
    if (!queue) return undefined;
    const index = queue.findIndex((q) => q.fault.appId === undefined || q.fault.appId === appId);
    const entry = queue[index];
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) queue.splice(index, 1);
    if (queue.length === 0) this.queues.delete(path);
    return entry.fault;
  }

  /** Number of fault uses still queued (all paths). */
  pending(): number {
    let n = 0;
    for (const queue of this.queues.values()) for (const q of queue) n += q.remaining;
    return n;
  }

  /** Drop every queued fault. */
  clear(): void {
    this.queues.clear();
  }
}

/** Snapshot of the call counters. */
export interface CounterSnapshot {
  /** Calls per path. */
  byPath: Record<string, number>;
  /** Calls per path, then per known app. */
  byApp: Record<string, Record<string, number>>;
}

/** Per-path and per-path+app call counters. */
export class CallCounters {
  private readonly byPath = new Map<string, number>();
  private readonly byApp = new Map<string, Map<string, number>>();

  /** Count one call to `path`, attributed to `appId` when given. */
  record(path: string, appId: string | undefined): void {
    this.byPath.set(path, (this.byPath.get(path) ?? 0) + 1);
    if (appId === undefined) return;
    const apps = this.byApp.get(path) ?? new Map<string, number>();
    apps.set(appId, (apps.get(appId) ?? 0) + 1);
    this.byApp.set(path, apps);
  }

  /** Calls to `path`, or only those attributed to `appId`. */
  get(path: string, appId?: string): number {
    if (appId === undefined) return this.byPath.get(path) ?? 0;
    return this.byApp.get(path)?.get(appId) ?? 0;
  }

  /** Plain-object copy of every counter. */
  snapshot(): CounterSnapshot {
    const byApp: Record<string, Record<string, number>> = {};
    for (const [path, apps] of this.byApp) byApp[path] = Object.fromEntries(apps);
    return { byPath: Object.fromEntries(this.byPath), byApp };
  }

  /** Zero every counter. */
  reset(): void {
    this.byPath.clear();
    this.byApp.clear();
  }
}
