import type { ActionKind } from './actions.ts';
import type { SnapshotBody, SnapshotEdge, SnapshotObserved, SnapshotSettings } from './snapshot-schema.ts';

/**
 * The world a decision is judged against, as packages/db `readWorld` reads it for the
 * API's operator actions and the controller's playbook steps alike. The safety rules
 * (packages/safety) are pure functions of it: no I/O, no clock (`now` is part of it).
 */
export type EdgeOverrideValue = 'none' | 'force-up' | 'force-down' | 'drain';
export type EdgeStateValue = 'active' | 'draining' | 'maintenance' | 'down';

export interface WorldEdge {
  name: string;
  capacityRps: number;
  /** Last fresh load report (requests/s); null when never reported or stale. */
  loadRps: number | null;
  /** When that load was reported (ISO time); absent when unknown. */
  loadReportedAt?: string;
  state: EdgeStateValue;
  /** The configured override, or the one an active override action sets (the later action wins). */
  override: EdgeOverrideValue;
  /** The effective SLO threshold (edge-rules.ts effectiveThreshold), as compiled into the snapshot. */
  threshold: number;
  dsrAddress: string | null;
  /** DNS load spreading as compiled (edge-rules.ts edgeWatermarks); absent: nothing moves by watermark. */
  watermarks?: SnapshotEdge['watermarks'];
  /** Coordinates, for the nearest-targets rule (absent: every candidate is as near). */
  lat?: number;
  lon?: number;
  /** What its agents last reported (observed.ts `observedHealth` judges it); absent: not observed. */
  observed?: SnapshotObserved;
}

/** An active row of the `actions` table, in the order actions apply (creation time, then id). */
export interface WorldAction {
  id?: number;
  kind: ActionKind;
  edge: string | null;
  prefix: string | null;
  source: 'operator' | 'automation';
  params: Record<string, unknown>;
  runId?: number | null;
}

export interface WorldPrefix {
  cidr: string;
  kind: 'unicast' | 'anycast';
  /** Owner of a unicast prefix. */
  edge: string | null;
  /** Edges announcing an anycast supernet (the owner for unicast). */
  announcers: string[];
  supernet: string | null;
}

export interface WorldService {
  name: string;
  /** Edges that have addresses for this service. */
  edges: string[];
  /** The service has an anycast fallback address. */
  anycast: boolean;
}

/** One real change of a prefix's announcement: withdrawn, announced again, or its communities changed. */
export interface WorldRouteChange {
  prefix: string;
  at: Date;
}

export interface World {
  now: Date;
  settings: SnapshotSettings;
  edges: WorldEdge[];
  /** Active actions (not reverted, not expired), by operators and automation. */
  actions: WorldAction[];
  prefixes: WorldPrefix[];
  services: WorldService[];
  /** Route changes of the last hour at least (older ones are ignored). */
  routeChanges: WorldRouteChange[];
  /**
   * The snapshot body the current state compiles to: what @catchment/routing judges
   * coverage and last routes on. Without it, withdrawals are refused (nothing to judge on).
   */
  body?: SnapshotBody;
  /** Per edge: DNS answers per client block (the DNS servers' last reports); how finely a shift moves clients. */
  answers?: Map<string, Map<string, number>>;
}

export const HOUR_MS = 3_600_000;

/** The prefixes an edge announces: its own unicast prefixes and the supernets it is an announcer of. */
export function edgeAnnouncedPrefixes(prefixes: readonly WorldPrefix[], edge: string): string[] {
  return prefixes
    .filter((p) => (p.kind === 'unicast' ? p.edge === edge : p.announcers.includes(edge)))
    .map((p) => p.cidr);
}
