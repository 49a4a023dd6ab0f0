import type { Database } from '@catchment/db';
import postgres from 'postgres';

/** The channel that migration 0003's triggers notify on new signals and operator decisions. */
export const WAKE_CHANNEL = 'catchment_controller';

/**
 * Calls `onWake` on every notification of WAKE_CHANNEL: LISTEN on its own connection
 * for PostgreSQL, the in-process listener for PGlite. Returns the unsubscribe function.
 */
export async function subscribeWake(database: Database, onWake: () => void): Promise<() => Promise<void>> {
  if (database.kind === 'postgres' && database.url) {
    const client = postgres(database.url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
    const request = await client.listen(WAKE_CHANNEL, () => onWake());
    return async () => {
      await request.unlisten().catch(() => {});
      await client.end({ timeout: 2 });
    };
  }
  const pglite = (
    database.db as unknown as { $client?: { listen?: (c: string, cb: () => void) => Promise<() => Promise<void>> } }
  ).$client;
  if (!pglite?.listen) return async () => {};
  const unlisten = await pglite.listen(WAKE_CHANNEL, () => onWake());
  return async () => {
    await unlisten().catch(() => {});
  };
}
