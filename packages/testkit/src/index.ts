export { makeTestCa, type TestCa } from './certs.ts';
export { DB_MODES, freshDatabase, freshPostgresUrl, sharedCluster } from './databases.ts';
export { TEST_KEK, type TestZoneKeys, testZoneKeys } from './dnssec.ts';
export {
  dashboardExpressions,
  exposedMetrics,
  MONITORING_KIT,
  ruleExpressions,
  selectedMetrics,
} from './monitoring.ts';
export { type PatroniCluster, patroniMissing, startPatroni } from './patroni.ts';
export { freePort } from './ports.ts';
export { type PostgresCluster, startPostgres } from './postgres.ts';
export { seededRandom } from './random.ts';
export { buildRelease, type Release, SYSTEMD_UNITS } from './release.ts';
export { snapshotEdge } from './snapshots.ts';
export {
  CATCHMENT_CLI,
  type CliResult,
  runCli,
  type Stack,
  type StackProcess,
  scrape,
  spawnLogged,
  startStack,
} from './stack.ts';
export { GEOIP_TESTDATA } from './testdata.ts';
export { tempDir } from './tmp.ts';
export { stopChild, until } from './wait.ts';
