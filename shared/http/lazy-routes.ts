import type { Env, Hono, MiddlewareHandler } from 'hono';
import { Hono as HonoApp } from 'hono';

/** What the outer request had set (`c.var`), for the routes it is handed to. */
const carried = new WeakMap<Request, Record<string, unknown>>();

/**
 * Routes whose code is loaded on the first request that reaches them, not when the app is built:
 * `load` (memoised; an `import()`, which the SCF build ships as a file of its own, see LAZY_FILES
 * in scripts/build-lib.ts) gives their Hono app. `paths` say which requests reach them: a path
 * ending in `/` (`/admin/api/`) covers everything under it, any other is one Hono route pattern
 * (`/v1/apps/:app/login`); a route of the loaded app that no path covers is never reached (the
 * callers' tests check their lists, with {@link servedRoutes}). A request is handed to it with
 * the outer request's variables (`requestId`, a session's `admin`…) and bindings; what it throws
 * reaches the outer app's error handler, and a path it has no route for falls through to the
 * outer app (its 404). A failed load is tried again on the next request.
 */
export function lazyRoutes<E extends Env>(
  paths: string | readonly string[],
  load: () => Promise<Hono<E>>,
): Hono<E> {
  let loading: Promise<Hono<E>> | undefined;
  const routes = () => {
    loading ??= load().then(
      (app) => {
        // Errors go to the outer app's handler. The loaded app may come from another copy of
        // Hono (a lazily loaded file of an SCF package bundles its own), whose default handler
        // would answer them itself.
        app.onError((err) => {
          throw err;
        });
        const inner = new HonoApp<E>();
        inner.use(async (c, next) => {
          for (const [k, v] of Object.entries(carried.get(c.req.raw) ?? {})) {
            c.set(k as never, v as never);
          }
          await next();
        });
        inner.route('/', app);
        inner.notFound(() => {
          throw NO_ROUTE;
        });
        inner.onError((err) => {
          throw err;
        });
        return inner;
      },
      (err: unknown) => {
        loading = undefined;
        throw err;
      },
    );
    return loading;
  };
  const outer = new HonoApp<E>();
  const handler: MiddlewareHandler<E> = async (c, next) => {
    const inner = await routes();
    carried.set(c.req.raw, { ...c.var });
    let res: Response;
    try {
      res = await inner.fetch(c.req.raw, c.env);
    } catch (err) {
      if (err !== NO_ROUTE) throw err;
      await next();
      return;
    }
    return res;
  };
  loaders.set(handler, routes);
  for (const path of typeof paths === 'string' ? [paths] : paths) {
    outer.use(path.endsWith('/') ? `${path}*` : path, handler);
  }
  return outer;
}

/** What {@link servedRoutes} reads of a Hono app, whatever its variables. */
interface RouteList {
  routes: readonly { method: string; path: string; handler: unknown }[];
}

/** The loader behind each lazy group's entry handler, for {@link servedRoutes}. */
const loaders = new WeakMap<object, () => Promise<RouteList>>();

/**
 * Every route `app` serves, each lazily loaded group loaded and its routes listed in place of its
 * entry points (`lazy: true` on those); for tests and checks, never on a request's path.
 */
export async function servedRoutes(
  app: RouteList,
): Promise<{ method: string; path: string; lazy: boolean }[]> {
  const out: { method: string; path: string; lazy: boolean }[] = [];
  const groups = new Set<() => Promise<RouteList>>();
  for (const r of app.routes) {
    const load = typeof r.handler === 'function' ? loaders.get(r.handler) : undefined;
    if (load === undefined) out.push({ method: r.method, path: r.path, lazy: false });
    else groups.add(load);
  }
  for (const load of groups) {
    for (const r of (await load()).routes) {
      if (r.method === 'ALL' && r.path === '/*') continue;
      out.push({ method: r.method, path: r.path, lazy: true });
    }
  }
  return out;
}

/** Thrown by the loaded routes for a path they do not serve: the outer app answers it. */
const NO_ROUTE = new Error('no lazy route');
