export * from './exposition.ts';
export * from './prometheus.ts';
export * from './rate.ts';
export * from './sampler.ts';
export * from './selector.ts';
export * from './source.ts';
export * from './spec.ts';
export * from './xdp.ts';
