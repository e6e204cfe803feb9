import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// Shared by both dialects' migration code (kept free of driver imports).

/**
 * `when` of the newest migration in a drizzle-kit folder (`meta/_journal.json`), or undefined
 * when the journal cannot be read (the full migration then reports what is wrong).
 */
export function newestMigration(folder: string): number | undefined {
  try {
    const journal = JSON.parse(readFileSync(join(folder, 'meta', '_journal.json'), 'utf8')) as {
      entries?: { when?: unknown }[];
    };
    const whens = (journal.entries ?? []).map((e) => e.when);
    if (whens.length === 0 || !whens.every((w) => typeof w === 'number')) return undefined;
    return Math.max(...(whens as number[]));
  } catch {
    return undefined;
  }
}

/**
 * Whether a database whose newest applied migration is `appliedAt` (`created_at` of the last row
 * of `__drizzle_migrations`) already has every migration of `folder`: drizzle applies exactly
 * those whose `when` is later, so then there is nothing to do and a cold start skips the lock,
 * the migration files and their hashes.
 */
export function isCurrent(appliedAt: unknown, folder: string): boolean {
  const newest = newestMigration(folder);
  const applied = Number(appliedAt);
  return newest !== undefined && appliedAt != null && Number.isFinite(applied) && applied >= newest;
}
