export { type LocalAddress, localAddresses, missingAddresses, requiredAddresses } from './addresses.ts';
export { type EdgeAgent, startEdgeAgent } from './agent.ts';
export { HealthMonitor, probe } from './health.ts';
export { PrometheusLoadSource } from './load/index.ts';
export { decideLocalWithdrawals } from './local-withdrawals.ts';
export { createEdgeMetrics } from './metrics.ts';
export { type Observation, observation } from './observation.ts';
export { buildBpf } from './xdp/object.ts';
