import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'mysql',
  schema: './shared/db/schema/mysql.ts',
  out: './drizzle/mysql',
});
