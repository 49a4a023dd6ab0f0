import type { Logger } from '@catchment/core';
import type { Database, Db } from '@catchment/db';
import type { Metrics } from './metrics.ts';
import type { CompileSnapshot, SnapshotHub } from './publication.ts';
import type { Explain } from './routes/explain.ts';
import type { CheckAction } from './safety/index.ts';

/** What every route module gets: the database, the snapshot hub, the pluggable steps. */
export interface ApiContext {
  database: Database;
  db: Db;
  logger: Logger;
  hub: SnapshotHub;
  metrics: Metrics;
  checkAction: CheckAction;
  explain: Explain | undefined;
  compile: CompileSnapshot;
  /** After a committed change: compile and publish a new snapshot if the body changed. */
  changed(actor: string): Promise<void>;
}
