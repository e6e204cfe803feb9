import type { Context } from 'hono';

/** The admin a console session belongs to. */
export interface AdminActor {
  id: number;
  name: string;
}

/** Per-request values on `/admin/api/…` routes: the base app's request id and the signed-in admin. */
export type AdminEnv = { Variables: { requestId: string; admin: AdminActor } };

/**
 * One admin write for the audit table: what was done (`apps.create`, `outbox.requeue`, …) and to
 * what (`app:shop-mp`). Never a secret: `detail` carries names, ids and which fields changed.
 */
export interface AuditEntry {
  action: string;
  target?: string;
  detail?: Record<string, string | number | boolean | null>;
}

/** What the admin data routes need from the session layer. */
export interface AdminGuard {
  /** Records `entry` for the signed-in admin of `c`, with the time and the client's IP. */
  audit(c: Context<AdminEnv>, entry: AuditEntry): Promise<void>;
}
