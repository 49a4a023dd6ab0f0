export * from './client.ts';
export * from './endpoints.ts';
export * from './tls.ts';
