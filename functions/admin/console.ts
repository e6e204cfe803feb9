import type { Deps } from '../../shared/platform/deps';
import type { AdminExtra } from './app';
import { createAdminDataRoutes } from './data';

/**
 * The console's data routes (`api`, given the guard that audits their writes) and pages, mounted
 * by the admin function behind its session layer, in the one-port server and the SCF function
 * alike.
 */
export function consoleParts(deps: Deps): AdminExtra {
  return { api: (guard) => createAdminDataRoutes(deps, guard) };
}
