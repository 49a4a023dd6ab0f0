export { type Access, presentedToken } from './auth.ts';
export type { ApiContext } from './context.ts';
export type { CompileSnapshot, PublishSnapshot } from './publication.ts';
export { SnapshotHub } from './publication.ts';
export type { Explain, ExplainQuery } from './routes/explain.ts';
export type { CheckAction, ProposedAction, Refusal } from './safety/index.ts';
export { type ApiOptions, buildApi, type StartedApi, startApi } from './server.ts';
export { type ApiTlsOptions, apiTlsFromEnv } from './tls.ts';
export { type CreateTokenOptions, createToken, ROLES, type Role, type TokenInfo } from './tokens.ts';
