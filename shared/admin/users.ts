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
 * Makes the admin of `WXHUB_ADMIN_USER` / `WXHUB_ADMIN_PASSWORD` exist with that password: created
 * when absent, its hash replaced only when the password no longer verifies against it (so a cold
 * start writes nothing). Once per process and store; a failure is retried on the next call.
 */
export function ensureEnvAdmin(deps: UsersDeps): Promise<void> {
  const admin = deps.config.admin;
  if (admin === undefined) return Promise.resolve();
  let done = ensured.get(deps.store);
  if (done === undefined) {
    done = (async () => {
      const user = await deps.store.admin.userByName(admin.user);
      if (user !== undefined && (await verifyPassword(admin.password, user.passwordHash))) return;
      const how = await deps.store.admin.setUser(
        admin.user,
        await hashPassword(admin.password),
        deps.clock.now(),
      );
      deps.log.info(
        { user: admin.user },
        how === 'created' ? 'admin user created' : 'admin password reset from WXHUB_ADMIN_PASSWORD',
      );
    })();
    ensured.set(deps.store, done);
    done.catch(() => ensured.delete(deps.store));
  }
  return done;
}
