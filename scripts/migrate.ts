import { resolve } from 'node:path';
import { ConfigError, parseConfig } from '../shared/config';
import { describeDatabase, migrateDatabase, openDatabase, pingDatabase } from '../shared/db/client';

// `npm run db:migrate`: applies the committed migrations to DATABASE_URL (or CloudRun's MYSQL_*).
// The server also does this at start; this is for running it ahead of a deploy.
try {
  const config = parseConfig(process.env);
  const handle = await openDatabase(config.database);
  const where = describeDatabase(config.database);
  try {
    await pingDatabase(handle);
    await migrateDatabase(handle, resolve('drizzle'));
    process.stdout.write(`migrations applied to ${where}\n`);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    process.stderr.write(
      `wxhub: cannot migrate ${where}: ${typeof code === 'string' ? code : (err as Error).message}\n`,
    );
    process.exitCode = 1;
  } finally {
    await handle.close();
  }
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`wxhub: ${err.message}\n`);
  process.exitCode = 1;
}
