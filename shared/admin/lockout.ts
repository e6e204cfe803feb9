/** Failed logins for one user name within {@link LOCK_WINDOW_MS} that lock it. */
export const LOCK_FAILURES = 5;
/** How long a login attempt counts; older ones are purged by the refresh pass. */
export const LOCK_WINDOW_MS = 15 * 60_000;
