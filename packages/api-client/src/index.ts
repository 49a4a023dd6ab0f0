export { ApiClient, ApiUnreachableError } from './client.ts';
export { ApiConfigError, Endpoints, parseApiUrls } from './endpoints.ts';
export type { ClientTlsFiles } from './tls.ts';
