import type { Clock } from '../clock';
import type { Logger } from '../http/log';
import type { Store } from './types';

/** The repositories of a {@link Store} (what a reader is made from). */
type Repos = Omit<Store, 'dialect' | 'ping' | 'probeWrite' | 'close' | 'reader'>;

/**
 * The reads that may lag behind the last write: lists, searches and counts for people and
 * dashboards (the console's lists and detail pages, its dashboard, metrics read from the
 * database). With `DATABASE_READ_URL` they are served by the replica; nothing else can be:
 * {@link ReaderStore} has no other method, and every other query goes through the store's own
 * repositories, which are bound to the primary. Nothing here decides a credential, a callback or
 * a payment (no `get` of a credential, app or merchant, no lease, no claim): keep it so when
 * adding a read, and keep those paths on the primary (the reader test checks they never name it).
 */
export const READER_METHODS = {
  apps: ['list'],
  merchants: ['list'],
  credentials: ['list'],
  messages: ['search', 'byId', 'countReceived'],
  payNotifications: ['search', 'byId', 'countReceived'],
  outbox: ['list', 'forSource', 'countStatus'],
  authorizers: ['list'],
  counters: ['list', 'totals'],
  admin: ['listAudit'],
} as const satisfies { [K in keyof Repos]?: readonly (keyof Repos[K] & string)[] };

type ReaderMethods = typeof READER_METHODS;

/** The store's reads that may lag (`store.reader`): on the replica when one is configured. */
export type ReaderStore = {
  readonly [K in keyof ReaderMethods]: Pick<Repos[K], ReaderMethods[K][number] & keyof Repos[K]>;
};

type Method = (...args: unknown[]) => Promise<unknown>;

/** The method `method` of repository `repo` of `repos`, read when called (repositories are lazy). */
function methodOf(repos: Repos, repo: keyof ReaderMethods, method: string): Method {
  // The one loose step: READER_METHODS names methods of these repositories (checked above).
  const r = repos[repo] as unknown as Record<string, Method>;
  const fn = r[method];
  if (fn === undefined) throw new Error(`no method ${repo}.${method}`);
  return (...args) => fn.apply(r, args);
}

/** An object with READER_METHODS' methods only, each made by `make`. */
function readerWith(make: (repo: keyof ReaderMethods, method: string) => Method): ReaderStore {
  const out: Record<string, Readonly<Record<string, Method>>> = {};
  for (const repo of Object.keys(READER_METHODS) as (keyof ReaderMethods)[]) {
    const view: Record<string, Method> = {};
    for (const method of READER_METHODS[repo]) view[method] = make(repo, method);
    out[repo] = Object.freeze(view);
  }
  // The cast: the loop above fills exactly the shape ReaderStore names.
  return Object.freeze(out) as unknown as ReaderStore;
}

/** The reader of a store without a replica: the same repositories, narrowed to the reads. */
export function primaryReader(primary: Repos): ReaderStore {
  return readerWith(
    (repo, method) =>
      (...args) =>
        methodOf(primary, repo, method)(...args),
  );
}

export interface ReplicaReaderOptions {
  /** Says when the replica stops answering and when it answers again (once each per outage). */
  log?: Logger | undefined;
  clock?: Clock | undefined;
  /**
   * After a read the replica failed, reads go straight to the primary for this long before the
   * replica is tried again (default {@link REPLICA_RETRY_MS}), so an outage costs one failed
   * attempt per this long, not one per read.
   */
  retryMs?: number | undefined;
  /**
   * A replica read not answered within this long is answered from the primary (default
   * {@link REPLICA_TIMEOUT_MS}): a replica host that went silent leaves pooled connections that
   * would otherwise wait for TCP to give up, which takes minutes.
   */
  timeoutMs?: number | undefined;
}

/** Default of {@link ReplicaReaderOptions.retryMs}. */
export const REPLICA_RETRY_MS = 30_000;
/** Default of {@link ReplicaReaderOptions.timeoutMs}. */
export const REPLICA_TIMEOUT_MS = 10_000;

/** `p`, or a rejection with code `TIMEOUT` when it takes longer than `ms`. */
function within<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(Object.assign(new Error(`no answer within ${ms} ms`), { code: 'TIMEOUT' }));
    }, ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/** The error's code (`ECONNREFUSED`, `ER_NO_SUCH_TABLE`…), looking through wrappers' causes. */
function errorCode(err: unknown): string {
  for (let e: unknown = err, depth = 0; typeof e === 'object' && e !== null && depth < 5; depth++) {
    if ('code' in e && typeof e.code === 'string') return e.code;
    e = 'cause' in e ? e.cause : undefined;
  }
  return err instanceof Error ? err.name : 'unknown';
}

/**
 * The reader of a store with a replica: each read goes to `replica`; when the replica fails it
 * (down, unreachable, silent, missing a table, refusing the user), the same read goes to `primary`, and
 * one warning says so for the whole outage (the error's code only: never the URL, user or
 * password, nor the query, which may name rows). While it is down, reads go to the primary
 * without trying it, and the first that it answers again logs that it is back. An error of the
 * primary is the read's error.
 */
export function replicaReader(
  primary: Repos,
  replica: Repos,
  opts: ReplicaReaderOptions = {},
): ReaderStore {
  const now = () => (opts.clock ?? Date).now();
  const retryMs = opts.retryMs ?? REPLICA_RETRY_MS;
  const timeoutMs = opts.timeoutMs ?? REPLICA_TIMEOUT_MS;
  let down: { since: number; retryAt: number } | undefined;
  return readerWith((repo, method) => async (...args) => {
    const onPrimary = () => methodOf(primary, repo, method)(...args);
    if (down !== undefined && now() < down.retryAt) return onPrimary();
    let value: unknown;
    try {
      value = await within(methodOf(replica, repo, method)(...args), timeoutMs);
    } catch (err) {
      const t = now();
      if (down === undefined) {
        down = { since: t, retryAt: t + retryMs };
        opts.log?.warn(
          { code: errorCode(err), retrySeconds: Math.round(retryMs / 1000) },
          'read replica (DATABASE_READ_URL) failed: reads that may lag go to the primary until it answers again',
        );
      } else {
        down.retryAt = t + retryMs;
      }
      return onPrimary();
    }
    if (down !== undefined) {
      const since = down.since;
      down = undefined;
      opts.log?.info(
        { downSeconds: Math.round((now() - since) / 1000) },
        'read replica (DATABASE_READ_URL) is back: reads that may lag go to it again',
      );
    }
    return value;
  });
}
