import { PlaybookTrigger } from '@catchment/core';
import { type Db, schema } from '@catchment/db';
import { classify } from '@catchment/safety';
import { desc, eq } from 'drizzle-orm';
import type { Static } from 'typebox';
import { Value } from 'typebox/value';
import type { Reading } from './run-executor.ts';
import type { PlaybookRow } from './run-store.ts';

type SignalRow = typeof schema.signals.$inferSelect;
type SloRow = typeof schema.slos.$inferSelect;
export type Trigger = Static<typeof PlaybookTrigger>;

/**
 * The current reading of each playbook's trigger per edge, from the `signals` table:
 * alerts (Alertmanager, via the API) are over while a matching alert fires for the
 * edge and under once none does; SLO triggers compare the latest evaluation with the
 * SLO's enter and exit thresholds, and are unknown when it is missing or stale.
 */
export class TriggerReadings {
  readonly #alerts: SignalRow[];
  readonly #slos: Map<string, SloRow>;
  readonly #sloSignals: Map<string, SignalRow>;
  readonly #edgeNames: Map<number, string>;
  readonly #now: Date;
  readonly #staleMs: number;

  constructor(
    alerts: SignalRow[],
    slos: SloRow[],
    sloSignals: SignalRow[],
    edgeNames: Map<number, string>,
    now: Date,
    staleMs: number,
  ) {
    this.#alerts = alerts;
    this.#slos = new Map(slos.map((s) => [s.name, s]));
    this.#sloSignals = new Map();
    for (const s of sloSignals) if (!this.#sloSignals.has(s.fingerprint)) this.#sloSignals.set(s.fingerprint, s);
    this.#edgeNames = edgeNames;
    this.#now = now;
    this.#staleMs = staleMs;
  }

  static async load(
    db: Db,
    edgeNames: Map<number, string>,
    now: Date,
    staleMs: number,
    lapse: AlertLapse = NEVER_LAPSE,
  ): Promise<TriggerReadings> {
    const [alerts, slos, sloSignals] = await Promise.all([
      db.select().from(schema.signals).where(eq(schema.signals.status, 'firing')),
      db.select().from(schema.slos),
      db.select().from(schema.signals).where(eq(schema.signals.source, 'slo')).orderBy(desc(schema.signals.startsAt)),
    ]);
    return new TriggerReadings(
      alerts.filter((a) => a.source !== 'slo' && !lapsed(a, now, lapse)),
      slos,
      sloSignals,
      edgeNames,
      now,
      staleMs,
    );
  }

  static triggerOf(playbook: PlaybookRow): Trigger | undefined {
    return Value.Check(PlaybookTrigger, playbook.trigger) ? playbook.trigger : undefined;
  }

  #edgeOf(signal: SignalRow): string | undefined {
    if (signal.edgeId !== null) return this.#edgeNames.get(signal.edgeId);
    const label = (signal.labels as Record<string, unknown>).edge;
    return typeof label === 'string' ? label : undefined;
  }

  /** Edges for which the playbook's trigger is over its enter threshold now. */
  overEdges(playbook: PlaybookRow): string[] {
    const trigger = TriggerReadings.triggerOf(playbook);
    if (!trigger) return [];
    const edges = new Set<string>();
    if ('alert' in trigger) {
      for (const a of this.#alerts) {
        const edge = this.#edgeOf(a);
        if (edge && matches(trigger.alert, a.labels as Record<string, unknown>)) edges.add(edge);
      }
    } else {
      for (const edge of this.#edgeNames.values()) if (this.reading(playbook, edge).level === 'over') edges.add(edge);
    }
    return [...edges].sort();
  }

  reading(playbook: PlaybookRow, edge: string): Reading {
    const trigger = TriggerReadings.triggerOf(playbook);
    if (!trigger) return { level: 'unknown', value: null };
    if ('alert' in trigger) {
      const firing = this.#alerts.filter(
        (a) => this.#edgeOf(a) === edge && matches(trigger.alert, a.labels as Record<string, unknown>),
      );
      if (firing.length === 0) return { level: 'under', value: null };
      const values = firing.map((a) => a.value).filter((v): v is number => v !== null);
      return { level: 'over', value: values.length > 0 ? Math.max(...values) : null };
    }
    const slo = this.#slos.get(trigger.slo);
    if (!slo || (slo.edgeId !== null && this.#edgeNames.get(slo.edgeId) !== edge))
      return { level: 'unknown', value: null };
    const signal = this.#sloSignals.get(`${slo.name}/${edge}`);
    if (!signal || signal.value === null) return { level: 'unknown', value: null };
    if (this.#now.getTime() - signal.updatedAt.getTime() > this.#staleMs)
      return { level: 'unknown', value: signal.value };
    return { level: classify(signal.value, slo.enterThreshold, slo.exitThreshold), value: signal.value };
  }
}

/** When a firing alert whose "resolved" never came stops counting. */
export interface AlertLapse {
  /** After the later of its endsAt (when it ends unless resent) and its last resend. */
  afterEndMs: number;
  /** After its last resend, for an alert that carries no endsAt. */
  maxSilenceMs: number;
}
const NEVER_LAPSE: AlertLapse = { afterEndMs: Number.POSITIVE_INFINITY, maxSilenceMs: Number.POSITIVE_INFINITY };

export function lapsed(alert: SignalRow, now: Date, lapse: AlertLapse): boolean {
  const seen = alert.updatedAt.getTime();
  const until = alert.endsAt ? Math.max(alert.endsAt.getTime(), seen) + lapse.afterEndMs : seen + lapse.maxSilenceMs;
  return now.getTime() > until;
}

/** Alertmanager-style equality matchers: every label of the trigger must have that value. */
export function matches(matchers: Record<string, string>, labels: Record<string, unknown>): boolean {
  return Object.entries(matchers).every(([k, v]) => labels[k] === v);
}
