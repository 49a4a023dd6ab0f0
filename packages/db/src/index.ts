export * from './audit.ts';
export * from './compile.ts';
export * from './config-diff.ts';
export * from './config-export.ts';
export * from './config-import.ts';
export * from './connection.ts';
export * from './migrate.ts';
export * from './publish.ts';
export * as schema from './schema.ts';
