import type { Logger } from '@catchment/core';
import type { Database, Db } from '@catchment/db';
import type { Access } from './auth.ts';
import type { DistributionLimiter } from './distribution-limit.ts';
import type { LoadPublisher } from './load-publication.ts';
import type { Metrics } from './metrics.ts';
import type { CompileSnapshot, SnapshotHub } from './publication.ts';
import type { Explain } from './routes/explain.ts';
import type { CheckAction } from './safety/index.ts';
import type { Runner } from './simulate/in-worker.ts';
import type { SimulateLimits } from './simulate/limits.ts';
import type { OneAtATime } from './simulate/one-at-a-time.ts';
import type { TokenVerifier } from './token-verifier.ts';

export interface RouteInfo {
  method: string;
  url: string;
  access: Access;
  /** Hidden from the OpenAPI document (the Swagger UI's own routes). */
  hidden: boolean;
}

/** What every route module gets: the database, the snapshot hub, the pluggable steps. */
export interface ApiContext {
  database: Database;
  db: Db;
  logger: Logger;
  hub: SnapshotHub;
  /** Checks presented tokens (remembers verifications; revoke calls `forget`). */
  tokens: TokenVerifier;
  /** Snapshot distribution's per-consumer limit (apart from the operator limit). */
  distribution: DistributionLimiter;
  metrics: Metrics;
  checkAction: CheckAction;
  explain: Explain | undefined;
  compile: CompileSnapshot;
  /** Every route with who may call it (the role matrix tests and the OpenAPI check read this). */
  routes: RouteInfo[];
  /** Load-only publications after edge load reports (absent: none). */
  loads: LoadPublisher | undefined;
  /** The simulator behind POST /v1/simulate (absent: 503 SIMULATE_UNAVAILABLE). */
  simulate: Runner | undefined;
  simulateLimits: SimulateLimits;
  /** One simulation at a time on this instance. */
  simulations: OneAtATime;
  /** Stops the running simulation (the API is closing). */
  simulationStops: Set<() => void>;
  /** After a committed change: compile and publish a new snapshot if the body changed. */
  changed(actor: string): Promise<void>;
}
