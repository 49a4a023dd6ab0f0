import assert from 'node:assert/strict';
import { schema } from '@catchment/db';
import { formatCommunity } from '@catchment/routing';
import { asc, desc, eq, gt } from 'drizzle-orm';
import { until } from '../wait.ts';
import { digAnswers, FRA_ANSWER, FRA_V4, PREPEND, SUPERNET_V4 } from './probes.ts';
import { OVERLOADED, type World } from './world.ts';

/** What the data plane shows right now: DNS answers, the transit's RIB, the XDP map. */
export interface Effects {
  /** Probe subnets answered with the overloaded edge (fra), per DNS server. */
  ownAnswers: number[];
  /** Probe subnets the first DNS server answers with another edge (subnet→answer). */
  elsewhere: string[];
  unicastAtTransit: boolean;
  /** Edges whose supernet announcement the transit holds. */
  supernetAnnouncers: string[];
  prepended: boolean;
  xdp: { enabled: number; fraction: number } | undefined;
}

export async function effects(w: World): Promise<Effects> {
  const [answers, routes, xdp] = await Promise.all([
    Promise.all(w.dns.map((d) => digAnswers(d.port, w.probes))),
    w.lab.transitRoutes(),
    w.xdpConfig(),
  ]);
  const fromEdge = (r: { protocol: string }) => r.protocol.replace(/[46]$/, '');
  return {
    ownAnswers: answers.map((a) => [...a.values()].filter((x) => x === FRA_ANSWER).length),
    elsewhere: [...(answers[0] ?? new Map()).entries()]
      .filter(([, x]) => x !== FRA_ANSWER)
      .map(([k, x]) => `${k}→${x}`),
    unicastAtTransit: routes.some((r) => r.prefix.text === FRA_V4),
    supernetAnnouncers: routes
      .filter((r) => r.prefix.text === SUPERNET_V4)
      .map(fromEdge)
      .sort(),
    prepended: routes.some(
      (r) => fromEdge(r) === OVERLOADED && r.communities.some((c) => formatCommunity(c) === PREPEND),
    ),
    xdp,
  };
}

/** The steady state: every probe answered with fra everywhere, the /24 and the supernet announced, DSR off. */
export async function waitSteady(w: World): Promise<void> {
  const probes = w.probes.length;
  let last: Effects | undefined;
  await until(
    'steady state (DNS answers fra, /24 at the transit, DSR off)',
    async () => {
      last = await effects(w);
      return (
        last.ownAnswers.every((n) => n === probes) &&
        last.unicastAtTransit &&
        !last.prepended &&
        last.supernetAnnouncers.join() === 'fra,iad' &&
        last.xdp !== undefined &&
        last.xdp.enabled === 0
      );
    },
    45_000,
    250,
  ).catch(async (e) => {
    throw new Error(`${(e as Error).message}: ${JSON.stringify(last)}\n${await w.report()}`);
  });
}

/** Waits for each effect of the playbook in turn (DNS shift, /24 withdrawn, community, DSR fraction). */
export async function waitShed(w: World, dsrFraction: number): Promise<void> {
  const probes = w.probes.length;
  let last: Effects | undefined;
  const check = async (what: string, ok: (e: Effects) => boolean) =>
    until(
      what,
      async () => {
        last = await effects(w);
        return ok(last);
      },
      30_000,
      200,
    ).catch(async (e) => {
      throw new Error(`${(e as Error).message}: ${JSON.stringify(last)}\n${await w.report()}`);
    });
  await check('DNS answers shift away from fra on every DNS server', (e) => e.ownAnswers.every((n) => n < probes));
  await check('the /24 disappears from the transit while the supernet stays', (e) => !e.unicastAtTransit);
  assert.deepEqual(last?.supernetAnnouncers, ['fra', 'iad'], 'the supernet stays announced by fra and iad');
  await check('the prepend community appears on fra’s routes', (e) => e.prepended);
  await check(
    'the DSR fraction is set in fra’s XDP map',
    (e) => e.xdp?.enabled === 1 && e.xdp.fraction === Math.round(dsrFraction * 65536),
  );
}

export async function latestRun(w: World, playbook: string) {
  const rows = await w.database.db
    .select({ run: schema.playbookRuns })
    .from(schema.playbookRuns)
    .innerJoin(schema.playbooks, eq(schema.playbooks.id, schema.playbookRuns.playbookId))
    .where(eq(schema.playbooks.name, playbook))
    .orderBy(desc(schema.playbookRuns.id))
    .limit(1);
  return rows[0]?.run;
}

/** The verification of each stage of a run (controller stage-verify.ts), by `kind position.stage`. */
export async function stageVerifications(
  w: World,
  runId: number,
): Promise<Record<string, { state: string; reason: string } | undefined>> {
  const rows = await w.database.db
    .select()
    .from(schema.runSteps)
    .where(eq(schema.runSteps.runId, runId))
    .orderBy(asc(schema.runSteps.position), asc(schema.runSteps.stage));
  return Object.fromEntries(
    rows.map((r) => [
      `${r.kind} ${r.position}.${r.stage}`,
      (r.observed as { verification?: { state: string; reason: string } } | null)?.verification,
    ]),
  );
}

export async function runActions(w: World, runId: number) {
  return w.database.db
    .select()
    .from(schema.actions)
    .where(eq(schema.actions.runId, runId))
    .orderBy(asc(schema.actions.id));
}

export async function waitRunState(w: World, playbook: string, states: string[], timeoutMs = 40_000) {
  let state: string | undefined;
  await until(
    `run of ${playbook} in ${states.join(' or ')}`,
    async () => {
      state = (await latestRun(w, playbook))?.state;
      return state !== undefined && states.includes(state);
    },
    timeoutMs,
    200,
  ).catch(async (e) => {
    throw new Error(`${(e as Error).message}; it is ${state}\n${await w.report()}`);
  });
  const run = await latestRun(w, playbook);
  assert.ok(run);
  return run;
}

/**
 * Every step was undone, in reverse order of the steps: the DSR action first, then the
 * communities, the withdrawal and last the highest DNS shift; each action once.
 */
export async function assertUndoneInReverse(w: World, runId: number): Promise<void> {
  const acts = await runActions(w, runId);
  assert.ok(
    acts.every((a) => a.revertedAt !== null),
    'every action of the run is reverted',
  );
  const reverted = (kind: string) => {
    const of = acts.filter((a) => a.kind === kind);
    const top = of.sort((a, b) => num(b.params, 'percent') - num(a.params, 'percent'))[0];
    assert.ok(top?.revertedAt, `a reverted ${kind} action`);
    return top.revertedAt.getTime();
  };
  const order = ['dsr-shed', 'communities', 'withdraw-unicast', 'dns-shift'].map(reverted);
  for (let i = 1; i < order.length; i++) {
    assert.ok((order[i - 1] ?? 0) <= (order[i] ?? 0), `undone in reverse: ${order.join(' ≤ ')}`);
  }
  // One action per step (per prefix for the withdrawal: the /24 and the /48).
  const once = acts.filter((a) => a.kind !== 'dns-shift').map((a) => `${a.kind} ${JSON.stringify(a.params)}`);
  assert.equal(new Set(once).size, once.length, `each step applied once: ${once.join('; ')}`);
  const keys = acts.map((a) => a.idempotencyKey);
  assert.equal(new Set(keys).size, keys.length, 'no action repeated');
}

function num(params: unknown, key: string): number {
  const v = (params as Record<string, unknown> | null)?.[key];
  return typeof v === 'number' ? v : 0;
}

/** The newest published snapshot version. */
export async function latestVersion(w: World): Promise<number> {
  const [row] = await w.database.db
    .select({ v: schema.snapshots.version })
    .from(schema.snapshots)
    .orderBy(desc(schema.snapshots.version))
    .limit(1);
  return row?.v ?? 0;
}

/** When the first snapshot after `version` was published (undefined: none yet). */
export async function publishedAfter(w: World, version: number): Promise<Date | undefined> {
  const [row] = await w.database.db
    .select({ at: schema.snapshots.createdAt })
    .from(schema.snapshots)
    .where(gt(schema.snapshots.version, version))
    .orderBy(asc(schema.snapshots.version))
    .limit(1);
  return row?.at;
}
