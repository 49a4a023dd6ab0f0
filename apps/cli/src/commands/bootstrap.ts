import { createToken, type Role } from '@catchment/api';
import { createLogger } from '@catchment/core';
import { openMigrated } from '../database.ts';

/** The first token, written to the database directly: the one CLI path that needs no token. */
export async function bootstrapToken(o: { role: string; name?: string; scope?: string; expiresAt: Date | null }) {
  const logger = createLogger('catchment-token', { stderr: true });
  const database = await openMigrated(logger);
  try {
    return await createToken(database.db, {
      name: o.name ?? `${o.role}-${Date.now()}`,
      role: o.role as Role,
      scope: o.scope ?? null,
      expiresAt: o.expiresAt,
      actor: `cli:${process.env.USER ?? 'root'}`,
    });
  } finally {
    await database.close();
  }
}
