export * from './addresses.ts';
export * from './agent.ts';
export * from './applier.ts';
export * from './health.ts';
export * from './load/index.ts';
export * from './local-withdrawals.ts';
export * from './metrics.ts';
export * from './reporter.ts';
export { buildBpf } from './xdp/object.ts';
