import type { PredictedLoad } from './components/predicted.ts';

/** The parts of the API's answers the dashboard reads (apps/api schemas, packages/core snapshot). */
export interface SnapshotEdge {
  name: string;
  lat: number;
  lon: number;
  country: string;
  continent: string;
  region: string;
  state: string;
  override: string;
  usable: boolean;
  loadRps: number | null;
  capacityRps: number;
  utilisation: number | null;
  /** The edge's effective SLO threshold, compiled into the snapshot (the number the rules use). */
  threshold: number;
  shiftPercent: number;
  shiftTargets: string[];
  dsrAddress?: string;
  /** Set when the load is from the agent's report, newer than the snapshot (live.ts). */
  loadReportedAt?: string;
}
export interface Announcement {
  edge: string;
  prefix: string;
  state: string;
  reason: string | null;
  communities: string[];
}
export interface Prefix {
  cidr: string;
  kind: 'unicast' | 'anycast';
  edge: string | null;
  supernet: string | null;
  announcers: string[];
  communities: string[];
}
export interface Dsr {
  edge: string;
  enabled: boolean;
  fraction: number;
  targets: unknown[];
  clientPrefixes: string[];
}
export interface Snapshot {
  version: number;
  createdAt: string;
  checksum: string;
  body: {
    edges: SnapshotEdge[];
    announcements: Announcement[];
    prefixes: Prefix[];
    dsr: Dsr[];
    automation: { frozen: boolean; frozenEdges: string[] };
    services: { name: string }[];
    /** Pinned answers (absent when there are none). */
    pins?: { action: number; edge: string; cidr: string | null; country: string | null; name: string | null }[];
  };
}
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
export interface Action {
  id: number;
  kind: string;
  edge: string | null;
  prefix: string | null;
  params: Record<string, unknown>;
  reason: string;
  actor: string;
  source: string;
  forced: boolean;
  runId: number | null;
  createdAt: string;
  expiresAt: string | null;
  revertedAt: string | null;
  revertedBy: string | null;
  active: boolean;
}
export interface RunStep {
  position: number;
  stage: number;
  kind: string;
  state: string;
  params: unknown;
  predicted: unknown;
  observed: unknown;
  refusal: unknown;
  actionId: number | null;
  decidedBy: string | null;
  decidedAt: string | null;
  startedAt: string;
  endedAt: string | null;
}
export interface Run {
  id: number;
  playbook: string;
  edge: string | null;
  state: string;
  currentStep: number;
  mode: string;
  trigger: unknown;
  error: string | null;
  /** Why the controller holds the run still now. */
  holding?: { reason: string; since: string } | null;
  startedAt: string;
  updatedAt: string;
  endedAt: string | null;
  steps?: RunStep[];
}
export interface AuditRecord {
  id: number;
  at: string;
  actor: string;
  action: string;
  objectType: string;
  objectId: string | null;
  reason: string | null;
  forced: boolean;
  before: unknown;
  after: unknown;
}
export interface Consumer {
  name: string;
  kind: string;
  snapshotVersion: number | null;
  lag: number | null;
  healthy: boolean;
  load: Record<string, unknown> | null;
  details: Record<string, unknown> | null;
  reportedAt: string;
}
export interface Change {
  path: string;
  before: unknown;
  after: unknown;
}
/** packages/safety's one refusal type (API responses and the run history alike). */
export interface Refusal {
  rule: string;
  reason: string;
  details: Record<string, unknown>;
}
export interface DryRun {
  dryRun: true;
  wouldPublish: boolean;
  diff: Change[];
  refusal: Refusal | null;
  predictedLoads: PredictedLoad[];
}
export interface Me {
  name: string;
  role: 'viewer' | 'operator' | 'admin' | 'agent';
  scope: string | null;
}
export interface Slo {
  name: string;
  edge: string;
  metric: string;
  enter: number;
  exit: number;
  window?: string;
}
