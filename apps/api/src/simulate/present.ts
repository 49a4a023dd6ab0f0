import { activeActions, compileSnapshot, type Db, exportConfig } from '@catchment/db';
import type { PresentWorld } from '@catchment/sim';

/**
 * The installation's present for a from-now scenario, in one transaction: the configuration
 * as `catchment export` writes it, the body compiled now (fresh loads, staleness applied by
 * the compiler) and the actions in force, with their expiries.
 */
export async function readPresent(db: Db, now: Date): Promise<PresentWorld> {
  return db.transaction(async (tx) => {
    const [config, body, actions] = await Promise.all([
      exportConfig(tx),
      compileSnapshot(tx as unknown as Db, now),
      activeActions(tx, now),
    ]);
    return { now, config, body, actions };
  });
}
