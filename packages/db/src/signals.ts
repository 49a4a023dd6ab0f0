import { and, desc, eq } from 'drizzle-orm';
import { recordAudit } from './audit.ts';
import type { Db } from './connection.ts';
import * as schema from './schema.ts';

// The owner of the `signals` table: the API's intake (Alertmanager, generic senders) and the
// controller's SLO evaluations write signals here. A signal that starts firing or resolves
// records its audit entry (`fire` / `resolve` of the signal) in the same transaction; a
// resend or a new value of the same episode changes no state and is not audited.

export type SignalRow = typeof schema.signals.$inferSelect;
export type SignalStatus = 'firing' | 'resolved';
type Reader = Pick<Db, 'select'>;
type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

const t = schema.signals;

/** One signal as a sender gives it; identified by (source, fingerprint, startsAt). */
export interface IncomingSignal {
  source: string;
  fingerprint: string;
  name: string;
  status: SignalStatus;
  labels: Record<string, string>;
  edge: string | undefined;
  slo: string | undefined;
  severity: string | undefined;
  value: number | null;
  startsAt: Date;
  endsAt: Date | null;
}

export type IntakeOutcome = 'new' | 'resolved' | 'duplicate';

async function auditSignal(
  tx: Tx,
  actor: string,
  id: number,
  s: { source: string; name: string; status: SignalStatus; edge?: string | undefined; value: number | null },
  at?: Date,
): Promise<void> {
  await recordAudit(tx, {
    ...(at ? { at } : {}),
    actor,
    action: s.status === 'firing' ? 'fire' : 'resolve',
    objectType: 'signal',
    objectId: String(id),
    reason: `${s.source} ${s.name}${s.edge ? ` on ${s.edge}` : ''} ${s.status}`,
    after: { source: s.source, name: s.name, edge: s.edge ?? null, status: s.status, value: s.value },
  });
}

/**
 * Idempotent intake: a signal is identified by (source, fingerprint, startsAt), so
 * Alertmanager's resends and regroupings of the same alert land on the same row.
 * Firing inserts once (a resend refreshes its endsAt and last-seen time); resolved moves a
 * firing row to resolved once; anything else is a duplicate and changes nothing.
 */
export async function ingestSignal(
  db: Db,
  s: IncomingSignal,
  actor: string,
): Promise<{ id: number; outcome: IntakeOutcome }> {
  return db.transaction(async (tx) => {
    const [edge] = s.edge
      ? await tx.select({ id: schema.edges.id }).from(schema.edges).where(eq(schema.edges.name, s.edge))
      : [];
    const [inserted] = await tx
      .insert(t)
      .values({
        source: s.source,
        fingerprint: s.fingerprint,
        name: s.name,
        edgeId: edge?.id ?? null,
        slo: s.slo ?? null,
        severity: s.severity ?? null,
        status: s.status,
        labels: s.labels,
        value: s.value,
        startsAt: s.startsAt,
        // Firing: when the sender says it ends unless resent (the controller lets it lapse then).
        endsAt: s.status === 'resolved' ? (s.endsAt ?? new Date()) : s.endsAt,
      })
      .onConflictDoNothing()
      .returning({ id: t.id });
    if (inserted) {
      await auditSignal(tx, actor, inserted.id, s);
      return { id: inserted.id, outcome: 'new' as const };
    }
    const identity = and(eq(t.source, s.source), eq(t.fingerprint, s.fingerprint), eq(t.startsAt, s.startsAt));
    if (s.status === 'resolved') {
      const [resolved] = await tx
        .update(t)
        .set({ status: 'resolved', endsAt: s.endsAt ?? new Date(), updatedAt: new Date() })
        .where(and(identity, eq(t.status, 'firing')))
        .returning({ id: t.id });
      if (resolved) {
        await auditSignal(tx, actor, resolved.id, s);
        return { id: resolved.id, outcome: 'resolved' as const };
      }
    }
    if (s.status === 'firing') {
      // A resend of a firing alert: it is still alive, until its new endsAt.
      const [seen] = await tx
        .update(t)
        .set({ endsAt: s.endsAt, updatedAt: new Date() })
        .where(and(identity, eq(t.status, 'firing')))
        .returning({ id: t.id });
      if (seen) return { id: seen.id, outcome: 'duplicate' as const };
    }
    const [existing] = await tx.select({ id: t.id }).from(t).where(identity);
    return { id: existing?.id ?? 0, outcome: 'duplicate' as const };
  });
}

/** The latest episode (by start time) of a signal identity, or undefined. */
export async function latestSignal(db: Reader, source: string, fingerprint: string): Promise<SignalRow | undefined> {
  const [row] = await db
    .select()
    .from(t)
    .where(and(eq(t.source, source), eq(t.fingerprint, fingerprint)))
    .orderBy(desc(t.startsAt))
    .limit(1);
  return row;
}

/**
 * Records one evaluation (an SLO's, by the controller) alert-like: a new episode row when
 * the status turns to firing (or on the first evaluation), the latest episode updated
 * (value, and its end when it resolves) otherwise. Returns the status recorded.
 */
export async function recordEvaluation(
  db: Db,
  e: {
    source: string;
    fingerprint: string;
    slo: string;
    edgeId: number;
    labels: Record<string, string>;
    value: number;
    now: Date;
    actor: string;
  },
  next: (latest: SignalStatus | undefined) => SignalStatus,
): Promise<SignalStatus> {
  return db.transaction(async (tx) => {
    const latest = await latestSignal(tx, e.source, e.fingerprint);
    const was = latest?.status as SignalStatus | undefined;
    const status = next(was);
    const audited = { source: e.source, name: e.slo, status, edge: e.labels.edge, value: e.value };
    if (!latest || (was === 'resolved' && status === 'firing')) {
      const [row] = await tx
        .insert(t)
        .values({
          source: e.source,
          fingerprint: e.fingerprint,
          slo: e.slo,
          name: e.slo,
          edgeId: e.edgeId,
          severity: e.labels.severity ?? null,
          status,
          labels: e.labels,
          value: e.value,
          startsAt: e.now,
          ...(status === 'resolved' ? { endsAt: e.now } : {}),
          receivedAt: e.now,
          updatedAt: e.now,
        })
        .returning({ id: t.id });
      // A first evaluation under the threshold starts no episode worth an audit entry.
      if (row && status === 'firing') await auditSignal(tx, e.actor, row.id, audited, e.now);
      return status;
    }
    const resolves = was === 'firing' && status === 'resolved';
    await tx
      .update(t)
      .set({ value: e.value, updatedAt: e.now, ...(resolves ? { status: 'resolved', endsAt: e.now } : {}) })
      .where(eq(t.id, latest.id));
    if (resolves) await auditSignal(tx, e.actor, latest.id, audited, e.now);
    return status;
  });
}
