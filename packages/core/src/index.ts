export {
  ACTION_KINDS,
  type ActionKind,
  ActionParams,
  type ActiveAction,
  EDGE_SCOPED_ACTIONS,
  OVERRIDE_ACTIONS,
} from './actions.ts';
export {
  communityProblem,
  DEFAULT_GUE_PORT,
  dnssecConfigErrors,
  domainErrors,
  loadConfigFile,
  normaliseName,
  parseConfigText,
  validateConfig,
} from './config.ts';
export { type NormalConfig, normaliseConfig } from './config-normalise.ts';
export {
  CatchmentConfig,
  EdgeConfig,
  EdgeDsrConfig,
  PlaybookConfig,
  PolicyConfig,
  PrefixConfig,
  ServiceConfig,
  SettingsConfig,
  SloConfig,
  TransitConfig,
  WatermarksConfig,
  ZoneConfig,
  ZoneDnssecConfig,
  ZoneRecordConfig,
} from './config-schema.ts';
export {
  ALGORITHM_NAMES,
  DNSSEC_ALGORITHMS,
  type DnssecAlgorithm,
  decryptPrivateKey,
  dnskeyRdata,
  dnskeyText,
  dsRdata,
  dsText,
  encryptPrivateKey,
  FLAGS_KSK,
  FLAGS_ZSK,
  generateDnssecKey,
  kekId,
  keyAad,
  keyTag,
  loadKek,
  privateKeyObject,
} from './dnssec/keys.ts';
export { durationProblem, MAX_DURATION_MS, MAX_DURATION_TEXT, parseDuration } from './duration.ts';
export {
  acceptsMovedLoad,
  actionActive,
  byActionOrder,
  DEFAULT_LOAD_STALE_MS,
  DEFAULT_UTILISATION_THRESHOLD,
  DEFAULT_WATERMARKS,
  edgeUsable,
  edgeWatermarks,
  effectiveThreshold,
  hasHeadroom,
  headroomRps,
  movedPercent,
  settledLoadRps,
  watermarkShare,
} from './edge-rules.ts';
export { CatchmentError, type ErrorCode, ErrorCodes, type FieldError, isCatchmentError } from './errors.ts';
export { createLogger, type Logger } from './logger.ts';
export { instrumentProcess } from './metrics.ts';
export { type Cidr, canonicalIp, cidrContains, cidrProblem, ipFamily, isIp, parseCidr } from './net.ts';
export {
  agentReportStaleMs,
  DEFAULT_AGENT_REPORT_STALE_SECONDS,
  formatAge,
  type ObservedHealth,
  type ObservedHealthState,
  observedAnnouncementProblem,
  observedHealth,
} from './observed.ts';
export { DEFAULT_PORTS } from './ports.ts';
export { promQuery } from './prometheus.ts';
export { recordValueProblem, zoneRecordErrors } from './records.ts';
export type { RunState, StepState } from './runs.ts';
export {
  CidrText,
  CommunityText,
  CountryCode,
  DnsName,
  Duration,
  EDGE_OVERRIDES,
  EDGE_STATES,
  EdgeOverride,
  EdgeState,
  IpText,
  Name,
  PLAYBOOK_MODES,
  PlaybookMode,
  PlaybookStep,
  PlaybookTrigger,
  RECORD_TYPES,
  RecordType,
  SLO_METRICS,
  SloMetric,
  Soa,
  Ttl,
} from './schema-common.ts';
export { DEFAULT_SETTINGS, runtimeSettings } from './settings.ts';
export { isActionKind, isDnsBlockReport, isSheddingKind, type SheddingActionKind } from './shedding.ts';
export {
  badRatioQuery,
  burnLabels,
  burnRates,
  type ObjectiveSlo,
  objectiveWindows,
  readBurn,
  SloObjective,
  sloRuleGroups,
} from './slo-objective.ts';
export { announcementCommunities, canonicalJson, sealSnapshot, verifySnapshot } from './snapshot.ts';
export { SnapshotFollower } from './snapshot-follower.ts';
export {
  Snapshot,
  SnapshotAnnouncement,
  SnapshotBody,
  SnapshotDnssec,
  SnapshotDnssecKey,
  SnapshotDsr,
  SnapshotEdge,
  SnapshotObserved,
  SnapshotPin,
  SnapshotPrefix,
  SnapshotSettings,
  SnapshotTransit,
  SnapshotZone,
} from './snapshot-schema.ts';
export { schemaErrors } from './validate.ts';
export { VERSION } from './version.ts';
export {
  type EdgeOverrideValue,
  type EdgeStateValue,
  edgeAnnouncedPrefixes,
  HOUR_MS,
  type World,
  type WorldAction,
  type WorldEdge,
  type WorldPrefix,
  type WorldRouteChange,
  type WorldService,
} from './world.ts';
