export * from './driver.ts';
export * from './lab.ts';
export * from './network.ts';
export * from './policy.ts';
export * from './topology.ts';
