import { DEFAULT_LOAD_STALE_MS, type Logger } from '@catchment/core';
import type { Database, Db } from '@catchment/db';
import { ENGINE_DEFAULTS } from '@catchment/safety';
import type { Stage } from './stages.ts';

export interface ControllerOptions {
  database: Database;
  logger?: Logger;
  /** This replica's name, in actors and logs (default controller:<hostname>:<pid>). */
  name?: string;
  /** The clock (tests pass a fake one). */
  now?: () => Date;
  /** Prometheus base URL for SLO evaluations (else utilisation comes from edge_loads). */
  prometheusUrl?: string;
  /** Chat webhook (Slack / Mattermost incoming webhook) for run events. */
  webhookUrl?: string;
  /**
   * Publishes a new snapshot from the active actions; default: @catchment/db's
   * publishSnapshot. Called after every tick that changed actions, and once when this
   * replica becomes leader (its predecessor may have died between commit and publish).
   */
  publish?: (db: Db, actor: string) => Promise<unknown>;
  /** node-cron expressions (with seconds) of the decision tick and of SLO evaluations. */
  tickSchedule?: string;
  sloSchedule?: string;
  /** How often a standby tries to take the lead. */
  leaderPollMs?: number;
  /** Metrics and health endpoint; false for none. */
  http?: { host: string; port: number } | false;
  /** Run ticks and SLO evaluations on their schedules (false: the caller calls tick()). */
  schedule?: boolean;
  defaultVerifyMs?: number;
  defaultDwellMs?: number;
  actionTtlMs?: number;
  /**
   * A refused stage is asked again after stageRetryBaseMs, doubling up to stageRetryMaxMs:
   * while the signal holds when the refusal is missing data (a load or an agent not reported),
   * stageRetryAttempts times in all when a rule refused it, then the run escalates past it.
   */
  stageRetryAttempts?: number;
  stageRetryBaseMs?: number;
  stageRetryMaxMs?: number;
  loadStaleMs?: number;
  sloStaleMs?: number;
  /**
   * A firing alert lapses (reads as resolved) this long after its endsAt or its last resend,
   * whichever is later, so a lost "resolved" webhook cannot keep a run shedding forever.
   * Keep it above Alertmanager's repeat_interval for the Catchment receiver (the kit: 5m).
   */
  alertLapseMs?: number;
  /** An alert that carries no endsAt lapses this long after it was last received. */
  alertMaxSilenceMs?: number;
  minTargets?: number;
  dnsSteerableShare?: number;
  burnRate?: { shortWindowDivisor: number };
  faults?: { afterActionsWritten?: (runId: number, stage: Stage) => void | Promise<void> };
}

export const DEFAULTS = {
  tickSchedule: '*/2 * * * * *',
  sloSchedule: '*/15 * * * * *',
  leaderPollMs: 1000,
  defaultVerifyMs: 120_000,
  defaultDwellMs: 300_000,
  actionTtlMs: 3_600_000,
  stageRetryAttempts: 3,
  stageRetryBaseMs: 15_000,
  stageRetryMaxMs: 300_000,
  loadStaleMs: DEFAULT_LOAD_STALE_MS,
  sloStaleMs: 120_000,
  alertLapseMs: 900_000,
  alertMaxSilenceMs: 86_400_000,
  minTargets: ENGINE_DEFAULTS.minTargets,
  dnsSteerableShare: ENGINE_DEFAULTS.dnsSteerableShare,
};
