/** What other parts (the CLI's single-process start, the API's explain) use of the DNS server. */

export { dumpSignedZone } from './dnssec/dump.ts';
export { compileSnapshot } from './engine.ts';
export { dnsEnvOptions } from './env.ts';
export { type FollowingDns, startFollowingDns } from './follow.ts';
export { reloadOnHangup } from './hangup.ts';
export type { Endpoint, TcpLimits } from './listener.ts';
export { DEFAULT_TCP } from './listener.ts';
export { type ClientAddress, Responder } from './respond.ts';
export type { RrlOptions } from './rrl.ts';
export { createDnsServer, type DnsServer, type DnsServerOptions } from './server.ts';
export { type DnsFromEnvOptions, startDnsFromEnv } from './standalone.ts';
export type { LoadResult } from './thread.ts';
export { type CheckResult, queryServer } from './verify.ts';
