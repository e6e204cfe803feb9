import { lazyRoutes } from '../../shared/http/lazy-routes';
import type { Deps } from '../../shared/platform/deps';
import type { AdminExtra } from './app';

/**
 * The console's data routes (`api`, given the guard that audits their writes) and pages, mounted
 * by the admin function behind its session layer, in the one-port server and the SCF function
 * alike. The data routes (and the account, pay and component code behind them) load on the first
 * request that reaches them, so the function's cold start (`/admin/api/me`, login) does not parse
 * them; the SCF package ships them as `admin-data.js`.
 */
export function consoleParts(deps: Deps): AdminExtra {
  return {
    api: (guard) =>
      lazyRoutes('/admin/api/', async () =>
        (await import('./data')).createAdminDataRoutes(deps, guard),
      ),
  };
}
