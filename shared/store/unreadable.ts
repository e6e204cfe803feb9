import { AppError } from '../http/errors';
import type { Unreadable } from './types';

// Beside the codec, not in it: routes call these, and the codec (with every row mapping) belongs
// in the dialect file that an SCF bundle loads on first use.

/** The 503 answered for a record whose needed secret did not open (code = its cause). */
export function unreadableError(u: Unreadable): AppError {
  return new AppError(u.code, u.message, u.keyId === undefined ? {} : { keyId: u.keyId });
}

/** Throws {@link unreadableError} when `column` (e.g. `apps.app_secret`) of `record` did not open. */
export function assertReadable(
  record: { unreadable?: Unreadable[] | undefined },
  column: string,
): void {
  const bad = record.unreadable?.find((u) => u.column === column);
  if (bad !== undefined) throw unreadableError(bad);
}
