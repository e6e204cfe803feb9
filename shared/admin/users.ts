import type { Clock } from '../clock';
import type { Config } from '../config';
import type { Logger } from '../http/log';
import type { Store } from '../store';
import { hashPassword, verifyPassword } from './password';

type UsersDeps = {
  config: Pick<Config, 'admin'>;
  store: Pick<Store, 'admin'>;
  clock: Clock;
  log: Logger;
};

const ensured = new WeakMap<object, Promise<void>>();

/**
 * Makes the admin of `WXHUB_ADMIN_USER` / `WXHUB_ADMIN_PASSWORD` the only enabled one: created
 * when absent, its hash replaced only when the password no longer verifies against it (so a cold
 * start writes nothing but one UPDATE that finds nothing to disable), and every other user
 * disabled (a renamed or removed admin stops working). A password reset ends that admin's
 * sessions, a disable those of the users disabled. Once per process and store; a failure is
 * retried on the next call. Without `WXHUB_ADMIN_USER` it writes nothing: no login works then
 * ({@link isConsoleAdmin}), and a process that does not serve the console needs no admin.
 */
export function ensureEnvAdmin(deps: UsersDeps): Promise<void> {
  const admin = deps.config.admin;
  if (admin === undefined) return Promise.resolve();
  let done = ensured.get(deps.store);
  if (done === undefined) {
    done = (async () => {
      const repo = deps.store.admin;
      const now = deps.clock.now();
      let user = await repo.userByName(admin.user);
      if (user === undefined || !(await verifyPassword(admin.password, user.passwordHash))) {
        const how = await repo.setUser(admin.user, await hashPassword(admin.password), now);
        deps.log.info(
          { user: admin.user },
          how === 'created'
            ? 'admin user created'
            : 'admin password reset from WXHUB_ADMIN_PASSWORD',
        );
        user = await repo.userByName(admin.user);
        if (user === undefined) throw new Error('the admin user was not stored');
        if (how === 'updated') await repo.deleteUserSessions(user.id);
      } else if (!user.enabled) {
        await repo.enableUser(user.id, now);
      }
      const disabled = await repo.disableUsersExcept(user.id, now);
      if (disabled > 0) {
        await repo.deleteUserSessions(user.id, true);
        deps.log.info({ disabled }, 'admin users other than WXHUB_ADMIN_USER disabled');
      }
    })();
    ensured.set(deps.store, done);
    done.catch(() => ensured.delete(deps.store));
  }
  return done;
}

/**
 * Whether `user` may use the console: enabled, and the configured admin (compared without case,
 * as MySQL finds it); with no admin configured, nobody.
 */
export function isConsoleAdmin(
  config: Pick<Config, 'admin'>,
  user: { name: string; enabled: boolean },
): boolean {
  const admin = config.admin;
  return (
    user.enabled && admin !== undefined && user.name.toLowerCase() === admin.user.toLowerCase()
  );
}
