// `pnpm bench:controller`: time from an alert landing in the `signals` table (as the
// API's Alertmanager intake writes it) to the published snapshot that shifts the edge's
// DNS answers, with the controller running on its schedule (tick every 2 s) plus its
// LISTEN/NOTIFY wake-up; and, as the baseline in the same session, the same without
// the wake-up (schedule only). PGlite and PostgreSQL. Medians of N runs.

import { Controller } from '../apps/controller/src/index.ts';
import { abortRun, type Database, latestSnapshot, publishSnapshot, schema } from '../packages/db/src/index.ts';
import { freshDatabase } from '../packages/testkit/src/index.ts';
import { addPlaybook, NORMAL_LOADS, reportLoads, seedWorld } from '../packages/testkit/src/world.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);

async function shiftPercent(database: Database): Promise<number> {
  const snap = await latestSnapshot(database.db);
  return snap?.body.edges.find((e) => e.name === 'lhr')?.shiftPercent ?? 0;
}

async function measure(mode: 'pglite' | 'postgres', wake: boolean): Promise<number[]> {
  const database = await freshDatabase(mode);
  const db = database.db;
  const ids = await seedWorld(db);
  await addPlaybook(db, { name: 'shed', trigger: { alert: { alertname: 'EdgeOverloaded' } } });
  const controller = new Controller({ database, http: false, name: 'bench' });
  await controller.start();
  if (!wake) await controller.stopWake();
  const out: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      await reportLoads(db, ids, NORMAL_LOADS, new Date());
      // Not aligned with the schedule: start somewhere inside the 2 s tick period.
      await new Promise((r) => setTimeout(r, 137 * (i % 13)));
      const t0 = performance.now();
      await db.insert(schema.signals).values({
        source: 'alertmanager',
        fingerprint: `bench-${i}`,
        name: 'EdgeOverloaded',
        edgeId: ids.get('lhr') ?? null,
        status: 'firing',
        labels: { alertname: 'EdgeOverloaded', edge: 'lhr' },
        startsAt: new Date(),
      });
      for (let n = 0; n < 2000 && (await shiftPercent(database)) === 0; n++) await new Promise((r) => setTimeout(r, 5));
      out.push(performance.now() - t0);
      // Reset: the alert resolves, an operator aborts the run, the snapshot goes back.
      await db.update(schema.signals).set({ status: 'resolved', endsAt: new Date() });
      for (const run of await db.select().from(schema.playbookRuns)) {
        if (!run.endedAt) await abortRun(db, run.id, 'bench', 'reset');
      }
      await publishSnapshot(db, { actor: 'bench' });
    }
  } finally {
    await controller.stop();
    await database.close();
  }
  return out;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};
const fmt = (xs: number[]) =>
  `median ${median(xs).toFixed(0)} ms, min ${Math.min(...xs).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms (n=${xs.length})`;

for (const mode of ['pglite', 'postgres'] as const) {
  console.log(
    `${mode}, wake-up (LISTEN/NOTIFY) + 2 s schedule: alert → snapshot with the shift: ${fmt(await measure(mode, true))}`,
  );
  console.log(
    `${mode}, 2 s schedule only (baseline):            alert → snapshot with the shift: ${fmt(await measure(mode, false))}`,
  );
}
process.exit(0);
