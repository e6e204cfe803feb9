import type { Deps } from '../../shared/platform/deps';
import type { AdminExtra } from './app';

/**
 * The console's data routes (`api`, given the guard that audits their writes) and pages, mounted
 * by the admin function behind its session layer, in the one-port server and the SCF function
 * alike. Empty until they are wired here.
 */
export function consoleParts(_deps: Deps): AdminExtra {
  return {};
}
