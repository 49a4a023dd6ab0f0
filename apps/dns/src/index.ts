/** What other parts (the CLI's single-process start, the tests and benchmarks) use of the DNS server. */

export { dumpSignedZone } from './dnssec/dump.ts';
export { compileSnapshot } from './engine.ts';
export { dnsEnvOptions } from './env.ts';
export type { FollowingDns } from './follow.ts';
export { reloadOnHangup } from './hangup.ts';
export { Responder } from './respond.ts';
export { createDnsServer, type DnsServer, type DnsServerOptions } from './server.ts';
export { startDnsFromEnv } from './standalone.ts';
export { queryServer } from './verify.ts';
