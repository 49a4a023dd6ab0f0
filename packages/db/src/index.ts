export {
  actionActiveAt,
  actionsExpiredBetween,
  insertAction,
  renewRunActions,
  revertActions,
  runActionIds,
} from './actions.ts';
export { latestAudit, objectRevision, recordAudit } from './audit.ts';
export { activeActions, compileBody, compileSnapshot } from './compile.ts';
export { CONFIG_KINDS, type ConfigKind, type FieldChange, fieldChanges, type PlanChange } from './config-diff.ts';
export { exportConfig } from './config-export.ts';
export { importConfig } from './config-import.ts';
export { type Database, type Db, openDatabase, rowsOf } from './connection.ts';
export { dnssecStatus } from './dnssec.ts';
export { advanceRollover, startRollover } from './dnssec-rollover.ts';
export { edgeLoadSeries, LOAD_HISTORY_RETENTION_MS, recordEdgeLoad } from './load-history.ts';
export { migrate, migrationStatus } from './migrate.ts';
export { type AgentReportRow, compileObserved } from './observed.ts';
export { latestSnapshot, publications, publishSnapshot, SNAPSHOT_CHANNEL } from './publish.ts';
export {
  edgeColumns,
  edgeDsrOf,
  edgeWatermarksOf,
  policyRulesOf,
  sloColumns,
  sloConfigOf,
  writePolicyRules,
} from './rows.ts';
export { abortRun, openRuns, type RunRow, runById, startRun, type Tx, updateRun } from './runs.ts';
export * as schema from './schema.ts';
export { type IncomingSignal, ingestSignal, latestSignal, recordEvaluation } from './signals.ts';
export { carryRunApproval, decideStage, type StepRow, setStepState, stepsOf, upsertStep } from './stages.ts';
export { isDatabaseUnreachable, withDeadline } from './unreachable.ts';
export { type ReadWorld, readWorld } from './world.ts';
