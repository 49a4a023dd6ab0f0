export * from './databases.ts';
export * from './ports.ts';
export * from './postgres.ts';
export * from './random.ts';
export * from './snapshots.ts';
export * from './testdata.ts';
export * from './tmp.ts';
export * from './wait.ts';
