export { SnapshotHub } from './publication.ts';
export type { ExplainQuery } from './routes/explain.ts';
export { type ApiOptions, type StartedApi, startApi } from './server.ts';
export type { SimulationWorker } from './simulate/in-worker.ts';
export { DEFAULT_SIMULATE_LIMITS, type SimulateLimits } from './simulate/limits.ts';
export { apiTlsFromEnv } from './tls.ts';
export { createToken, type Role } from './tokens.ts';
