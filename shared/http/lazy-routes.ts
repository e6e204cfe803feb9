import type { Env, Hono } from 'hono';
import { Hono as HonoApp } from 'hono';

/** What the outer request had set (`c.var`), for the routes it is handed to. */
const carried = new WeakMap<Request, Record<string, unknown>>();

/**
 * Routes under `prefix` (`/admin/api/`) whose code is loaded on the first request that reaches
 * them, not when the app is built: `load` (memoised; an `import()`, which the SCF build ships as
 * a file of its own, see LAZY_FILES in scripts/build-lib.ts) gives their Hono app. A request is
 * handed to it with the outer request's variables (`requestId`, a session's `admin`…) and
 * bindings; what it throws reaches the outer app's error handler, and a path it has no route for
 * falls through to the outer app (its 404). A failed load is tried again on the next request.
 */
export function lazyRoutes<E extends Env>(prefix: string, load: () => Promise<Hono<E>>): Hono<E> {
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
  outer.use(`${prefix}*`, async (c, next) => {
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
  });
  return outer;
}

/** Thrown by the loaded routes for a path they do not serve: the outer app answers it. */
const NO_ROUTE = new Error('no lazy route');
