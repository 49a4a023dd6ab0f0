import { and, asc, eq, gte, lt, sql } from 'drizzle-orm';
import type { Db } from './connection.ts';
import { edgeLoadHistory } from './schema.ts';

/** How long load history is kept: the dashboard shows the last hours, a day at most. */
export const LOAD_HISTORY_RETENTION_MS = 24 * 3600_000;

const minuteOf = (at: Date) => new Date(Math.floor(at.getTime() / 60_000) * 60_000);

/**
 * Adds one reported load to its edge's minute (samples, sum, maximum) and drops that edge's
 * minutes past the retention: one upsert and one indexed delete per report, so the table holds
 * at most a day of minutes per edge however often agents report.
 */
export async function recordEdgeLoad(db: Pick<Db, 'insert' | 'delete'>, edgeId: number, rps: number, at: Date) {
  const t = edgeLoadHistory;
  await db
    .insert(t)
    .values({ edgeId, minute: minuteOf(at), samples: 1, rpsSum: rps, rpsMax: rps })
    .onConflictDoUpdate({
      target: [t.edgeId, t.minute],
      set: {
        samples: sql`${t.samples} + 1`,
        rpsSum: sql`${t.rpsSum} + ${rps}`,
        rpsMax: sql`greatest(${t.rpsMax}, ${rps})`,
      },
    });
  await db.delete(t).where(and(eq(t.edgeId, edgeId), lt(t.minute, new Date(at.getTime() - LOAD_HISTORY_RETENTION_MS))));
}

export interface LoadPoint {
  /** Start of the step. */
  at: Date;
  /** Mean and maximum of the reports in the step. */
  rps: number;
  maxRps: number;
  samples: number;
}

/** An edge's load since `since`, one point per `stepMs` (a multiple of a minute) that has reports. */
export async function edgeLoadSeries(db: Pick<Db, 'select'>, edgeId: number, since: Date, stepMs: number) {
  const t = edgeLoadHistory;
  const rows = await db
    .select({ minute: t.minute, samples: t.samples, rpsSum: t.rpsSum, rpsMax: t.rpsMax })
    .from(t)
    .where(and(eq(t.edgeId, edgeId), gte(t.minute, minuteOf(since))))
    .orderBy(asc(t.minute));
  // Folded here rather than in SQL: at most 1440 rows, and the same arithmetic on both databases.
  const points: LoadPoint[] = [];
  for (const r of rows) {
    const at = new Date(Math.floor(r.minute.getTime() / stepMs) * stepMs);
    const last = points.at(-1);
    if (last && last.at.getTime() === at.getTime()) {
      last.rps = (last.rps * last.samples + r.rpsSum) / (last.samples + r.samples);
      last.samples += r.samples;
      last.maxRps = Math.max(last.maxRps, r.rpsMax);
    } else {
      points.push({ at, rps: r.rpsSum / r.samples, maxRps: r.rpsMax, samples: r.samples });
    }
  }
  return points;
}
