/** drizzle-kit: generates SQL migrations from the origin's schema (`npm run db:generate`). */
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './adapters/postgres/schema.ts',
  out: './adapters/postgres/migrations',
});
