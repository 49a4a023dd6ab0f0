import { type Db, type ReadWorld, readWorld } from '@catchment/db';

/**
 * Everything the planner and the safety rules need, read in one go at the start of a
 * tick (the controller never reads in the middle of a decision) by packages/db's
 * `readWorld`, the same reader the API judges operator actions with.
 */
export interface ControllerWorld extends ReadWorld {
  /** Transit name → intent → community values. */
  transits: Map<string, Record<string, string[]>>;
}

export interface ModelOptions {
  /** A load report older than this is ignored (the edge's load is then unknown). */
  loadStaleMs: number;
}

export async function loadWorld(db: Db, now: Date, opts: ModelOptions): Promise<ControllerWorld> {
  const world = await readWorld(db, now, { loadStaleMs: opts.loadStaleMs });
  return { ...world, transits: new Map(world.body.transits.map((t) => [t.name, t.intents])) };
}
