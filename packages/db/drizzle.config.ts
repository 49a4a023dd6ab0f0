import { defineConfig } from 'drizzle-kit';

// `pnpm db:generate` writes a new migration into migrations/ from src/schema.ts.
export default defineConfig({
  dialect: 'postgresql',
  schema: './packages/db/src/schema.ts',
  out: './migrations',
});
