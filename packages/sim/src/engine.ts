import type { SnapshotBody } from '@catchment/core';
import { type GeoDb, SteeringBuilder } from '@catchment/geo';
import { type Answers, answerAll } from './answers.ts';
import { beforeSecond, type Catchment } from './catchment.ts';
import { addBrokenLoad } from './connections.ts';
import { diurnalFactors } from './diurnal.ts';
import type { Driver, DriverLogEntry, EdgeStateChange } from './driver.ts';
import { crowdFactorsAt, flushedResolvers, outageTransits, regionSharesWith, transitsDownAt } from './events.ts';
import { hash32, type Population } from './population.ts';
import { type RouteTable, routeKey, routeTable } from './routing.ts';
import type { ScenarioModel } from './scenario.ts';
import { changeNotes } from './steps.ts';
import { type EdgeResult, edgeSummary } from './summary.ts';
import { buildTopology } from './transits.ts';

/** Light in fibre covers about 200 km per millisecond: 1 ms of round trip per 100 km. */
export const KM_PER_RTT_MS = 100;

export type { EdgeResult };

interface Version {
  atS: number;
  body: SnapshotBody;
  answers: Answers;
  route: RouteTable;
  routeKey: string;
  /** Route tables of this version's announcements with some transits out, by the outage set (shared with equal keys). */
  outageRoutes: Map<string, RouteTable>;
  dsr: { fraction: number; targets: { edge: number; share: number }[] }[];
}

export interface RunResult {
  strategy: string;
  durationS: number;
  edges: EdgeResult[];
  /** Σ over edges of seconds over the SLO threshold (the headline figure). */
  overThresholdSeconds: number;
  overloadSeconds: number;
  excessRequests: number;
  offeredRequests: number;
  servedRequests: number;
  /** Extra work at shedding edges for the flows they forward (DSR cost), not offered load. */
  dsrCostRequests: number;
  /** Requests that reached no edge: nothing announced covers them, or the edge failed. */
  droppedRequests: number;
  /** Requests served by an edge farther from the client than the one it had at the start. */
  servedFartherRequests: number;
  /** Mean added round trip of those requests (great-circle distance, 100 km per ms). */
  addedRttMs: number;
  /** Connections in flight whose packets moved to another edge, or to none, when a route changed (connections.ts). */
  connectionsBroken: number;
  /** Which edge each client country lands at, before the first event and at the end. */
  catchment: Catchment;
  steps: { t: number; text: string }[];
  decisions: DriverLogEntry[];
  /** Offered load per second (for the conservation check and the plot). */
  offered: Float32Array;
  dropped: Float32Array;
}

function dsrOf(body: SnapshotBody, index: Map<string, number>): Version['dsr'] {
  return body.edges.map((e) => {
    const d = body.dsr.find((x) => x.edge === e.name);
    if (!d?.enabled) return { fraction: 0, targets: [] };
    const total = d.targets.reduce((n, x) => n + x.weight, 0);
    return {
      fraction: d.fraction / 65536,
      targets: d.targets.map((x) => ({ edge: index.get(x.edge)!, share: x.weight / total })),
    };
  });
}

/**
 * Runs one strategy: second by second, offered load flows from client blocks through their
 * resolvers' cached answers and the routes in force to the edges; the driver sees what the
 * edges served and publishes snapshots; each new snapshot is answered by the real DNS tables
 * and reaches each cache when that cache next refreshes (its TTL as the resolver treats it).
 */
/** Longest stretch of simulation between two turns of the event loop, ms. */
const YIELD_EVERY_MS = 20;

export async function runStrategy(
  strategy: string,
  model: ScenarioModel,
  geo: GeoDb,
  pop: Population,
  service: string,
  driver: Driver,
  builder: SteeringBuilder = new SteeringBuilder(),
): Promise<RunResult> {
  const T = model.durationS;
  const C = pop.countries.length;
  const first = await driver.start(model.start);
  const E = first.edges.length;
  const A = E + 1;
  const index = new Map(first.edges.map((e, i) => [e.name, i]));
  const topo = buildTopology(first, pop.countries, model);
  const versions: Version[] = [];
  const makeVersion = (atS: number, body: SnapshotBody): Version => {
    // Routes change only with the announcements: a load-only publication keeps the table.
    const key = routeKey(body);
    const prev = versions[versions.length - 1];
    const same = prev?.routeKey === key;
    return {
      atS,
      body,
      answers: answerAll(builder, body, geo, service, pop),
      route: same ? prev.route : routeTable(body, service, topo, model.routeOverrides, pop.countries),
      routeKey: key,
      outageRoutes: same ? prev.outageRoutes : new Map(),
      dsr: dsrOf(body, index),
    };
  };
  // The routes of a version with the transits marked in `down` out (computed once per set).
  const routesOf = (v: Version, down: Uint8Array): RouteTable => {
    if (!down.includes(1)) return v.route;
    const k = down.join('');
    let r = v.outageRoutes.get(k);
    if (!r) {
      r = routeTable(v.body, service, topo, model.routeOverrides, pop.countries, down);
      v.outageRoutes.set(k, r);
    }
    return r;
  };
  versions.push(makeVersion(0, first));
  const R = topo.regionShare.length;
  const { regionStart, regionShare } = topo;
  const v0 = versions[0]!;
  const ttl = first.services.find((s) => s.name === service)?.ttl ?? 30;

  const nEntries = pop.entryBlock.length;
  // Per entry: cache lifetime (the TTL as its resolver treats it) and refresh phase.
  const lifetime = new Int32Array(nEntries);
  const phase = new Int32Array(nEntries);
  const cur = Int16Array.from(v0.answers.edge);
  const a0 = v0.answers.edge;
  const pendingAt = new Int32Array(nEntries).fill(-1);
  const group = new Uint8Array(nEntries);
  const weight = new Float64Array(nEntries);
  const life = (behaviour: string) =>
    Math.max(
      1,
      behaviour === 'clamp'
        ? Math.max(ttl, model.caches.clampMinS)
        : behaviour === 'stale'
          ? ttl + model.caches.staleExtraS
          : ttl,
    );
  for (let e = 0; e < nEntries; e++) {
    const r = pop.resolvers[pop.entryResolver[e]!]!;
    const L = life(r.behaviour);
    lifetime[e] = L;
    const b = pop.entryBlock[e]!;
    // An ECS cache holds one answer per scope block; without ECS, one per resolver.
    const key = r.ecs ? pop.blockAddr[b]! >>> (32 - Math.max(1, v0.answers.scope[e]!)) : 0;
    phase[e] = model.phase === 'aligned' ? 0 : hash32(model.seed, pop.entryResolver[e]!, key, r.ecs ? 1 : 0) % L;
    weight[e] = pop.blockRps[b]! * pop.entryShare[e]!;
    const c = pop.blockCountry[b]!;
    // A crowd at an edge: the entries whose country's main region reaches it at the start.
    const recv0 = v0.route.receive[(a0[e]! + 1) * R + regionStart[c]!]!;
    const gi = model.events.findIndex(
      (ev) =>
        ev.kind === 'flash-crowd' &&
        (ev.countries?.includes(pop.countries[c]!.code) === true ||
          (ev.edge !== undefined && index.get(ev.edge) === recv0)),
    );
    group[e] = gi < 0 ? 0 : gi + 1;
  }
  const G = model.events.length + 1;
  const cellKey = (g: number, base: number, ans: number, c: number) => ((g * A + (base + 1)) * A + (ans + 1)) * C + c;
  const cells = new Map<number, number>();
  const addCell = (k: number, w: number) => {
    const v = (cells.get(k) ?? 0) + w;
    if (Math.abs(v) < 1e-9) cells.delete(k);
    else cells.set(k, v);
  };
  for (let e = 0; e < nEntries; e++) {
    addCell(cellKey(group[e]!, a0[e]!, cur[e]!, pop.blockCountry[pop.entryBlock[e]!]!), weight[e]!);
  }

  const buckets = new Map<number, number[]>();
  const schedule = (e: number, from: number) => {
    if (pendingAt[e]! >= from) return;
    const L = lifetime[e]!;
    const at = from + ((((phase[e]! - from) % L) + L) % L);
    if (at >= T) return;
    pendingAt[e] = at;
    let list = buckets.get(at);
    if (!list) {
      list = [];
      buckets.set(at, list);
    }
    list.push(e);
  };
  const publish = (t: number, body: SnapshotBody) => {
    const v = makeVersion(t, body);
    versions.push(v);
    const next = v.answers.edge;
    for (let e = 0; e < nEntries; e++) if (next[e] !== cur[e]) schedule(e, t);
  };

  // Distance from each country to each edge.
  const km = topo.km;

  const loads = first.edges.map(() => new Float32Array(T));
  const offered = new Float32Array(T);
  const dropped = new Float32Array(T);
  const factors = new Float64Array(G);
  const received = new Float64Array(E);
  const served = new Float64Array(E);
  const effDsr = new Float64Array(E);
  const failed = new Uint8Array(E);
  const dsrStep = model.dsr.connectionSeconds > 0 ? 1 / model.dsr.connectionSeconds : 1;
  const steps: RunResult['steps'] = [];
  let dsrCost = 0;
  let fartherReq = 0;
  let fartherKm = 0;
  let routeV = 0;
  let dnsV = 0;
  const events = model.events.map((ev, i) => ({ ev, i }));
  const outages = outageTransits(model, topo);
  const down = new Uint8Array(topo.transits.length);
  const shareNow = Float64Array.from(regionShare);
  let sharePrev = Float64Array.from(regionShare);
  const flushes = model.events.flatMap((ev, i) =>
    ev.kind === 'cache-flush' ? [{ atS: ev.atS, resolvers: flushedResolvers(model, pop, i) }] : [],
  );
  const diurnal = model.diurnal ? diurnalFactors(model.diurnal, model.start, pop.countries) : undefined;
  const countryFactor = new Float64Array(C).fill(1);
  // Connections broken: a route change compares each flow's receiving edge before and after.
  const connS = model.dsr.connectionSeconds;
  const brokenLoad = new Float64Array(E);
  const broken = new Float64Array(E);
  const failedPrev = new Uint8Array(E);
  let routePrev: Int16Array | undefined;
  // The catchment map: per country and receiving edge, at two seconds.
  const W = E + 1;
  const mapAt = [beforeSecond(model), T - 1];
  const maps = mapAt.map((atS) => ({ atS, load: new Float64Array(C * W) }));

  let yieldedAt = performance.now();
  for (let t = 0; t < T; t++) {
    // Let the process's other work run (the API that hosts POST /v1/simulate serves snapshots,
    // reports and health checks on the same event loop): the drivers' awaits are microtasks.
    if (performance.now() - yieldedAt > YIELD_EVERY_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      yieldedAt = performance.now();
    }
    const latest = versions[dnsV]!.answers.edge;
    const take = (e: number) => {
      const n = latest[e]!;
      if (n === cur[e]) return;
      const c = pop.blockCountry[pop.entryBlock[e]!]!;
      addCell(cellKey(group[e]!, a0[e]!, cur[e]!, c), -weight[e]!);
      addCell(cellKey(group[e]!, a0[e]!, n, c), weight[e]!);
      cur[e] = n;
    };
    // A cache flush: the flushed resolvers' entries re-query now (their lifetimes restart now).
    for (const f of flushes) {
      if (f.atS !== t) continue;
      for (let e = 0; e < nEntries; e++) {
        if (!f.resolvers[pop.entryResolver[e]!]) continue;
        pendingAt[e] = -1;
        phase[e] = t % lifetime[e]!;
        take(e);
      }
    }
    // The caches that refresh this second take the newest answer.
    const due = buckets.get(t);
    if (due) {
      buckets.delete(t);
      for (const e of due) {
        if (pendingAt[e] !== t) continue; // rescheduled by a flush
        pendingAt[e] = -1;
        take(e);
      }
    }
    // Routes follow a snapshot once its announcements have propagated.
    while (routeV + 1 < versions.length && versions[routeV + 1]!.atS + model.propagationDelayS <= t) routeV++;
    // A transit outage acts at once: its routes vanish, its regions' clients go to their other transits.
    if (transitsDownAt(model, outages, t, down)) regionSharesWith(topo, down, shareNow);
    const route = routesOf(versions[routeV]!, down).receive;
    // Any change in where packets go (routes, transits, a failed edge) breaks connections in flight.
    const rerouted =
      routePrev !== undefined &&
      (route !== routePrev ||
        failed.some((x, i) => x !== failedPrev[i]) ||
        shareNow.some((x, i) => x !== sharePrev[i]));
    if (diurnal) diurnal(t, countryFactor);
    // "before" and "after" may be the same second (a run without events is one second long).
    const map = t === mapAt[0] ? maps[0]!.load : t === mapAt[1] ? maps[1]!.load : undefined;
    const base = v0.route.receive;
    const dsr = versions[dnsV]!.dsr;
    for (let e = 0; e < E; e++) {
      const target = dsr[e]!.fraction;
      effDsr[e] = effDsr[e]! + (target - effDsr[e]!) * dsrStep;
    }
    crowdFactorsAt(model, t, factors);
    received.fill(0);
    served.fill(0);
    let off = 0;
    let drop = 0;
    for (const [k, w] of cells) {
      const c = k % C;
      let rest = (k - c) / C;
      const ans = (rest % A) - 1;
      rest = (rest - (ans + 1)) / A;
      const baseAns = (rest % A) - 1;
      const g = (rest - (baseAns + 1)) / A;
      const cellLoad = w * factors[g]! * countryFactor[c]!;
      off += cellLoad;
      if (rerouted) {
        const ofs = (ans + 1) * R;
        const prevR = routePrev!;
        addBrokenLoad(
          cellLoad,
          regionStart[c]!,
          regionStart[c + 1]!,
          (reg) => {
            const x = prevR[ofs + reg]!;
            return x < 0 || failedPrev[x] ? -1 : x;
          },
          (reg) => {
            const x = route[ofs + reg]!;
            return x < 0 || failed[x] ? -1 : x;
          },
          sharePrev,
          shareNow,
          brokenLoad,
        );
      }
      // Each region of the country (its clients behind one transit) is routed on its own.
      for (let reg = regionStart[c]!; reg < regionStart[c + 1]!; reg++) {
        const load = cellLoad * shareNow[reg]!;
        if (load === 0) continue;
        const r = route[(ans + 1) * R + reg]!;
        if (r < 0 || failed[r]) {
          drop += load;
          if (map) map[c * W + E] = map[c * W + E]! + load;
          continue;
        }
        if (map) map[c * W + r] = map[c * W + r]! + load;
        received[r] = received[r]! + load;
        const was = base[(baseAns + 1) * R + reg]!;
        const wasKm = was < 0 ? 0 : km[c * E + was]!;
        const f = effDsr[r]!;
        const stay = load * (1 - f);
        const dkm = km[c * E + r]! - wasKm;
        if (was >= 0 && dkm > 1) {
          fartherReq += stay;
          fartherKm += stay * dkm;
        }
        served[r] = served[r]! + stay;
        if (f > 0) {
          const moved = load * f;
          served[r] = served[r]! + moved * model.dsr.cost;
          dsrCost += moved * model.dsr.cost;
          for (const tg of dsr[r]!.targets) {
            const part = moved * tg.share;
            served[tg.edge] = served[tg.edge]! + part;
            const tk = km[c * E + tg.edge]! - wasKm;
            if (was >= 0 && tk > 1) {
              fartherReq += part;
              fartherKm += part * tk;
            }
          }
        }
      }
    }
    if (rerouted) {
      for (let e = 0; e < E; e++) broken[e] = broken[e]! + brokenLoad[e]! * connS;
      brokenLoad.fill(0);
    }
    if (T - 1 === mapAt[0] && t === T - 1) maps[1]!.load.set(maps[0]!.load);
    routePrev = route;
    failedPrev.set(failed);
    if (rerouted || sharePrev.some((x, i) => x !== shareNow[i])) sharePrev = Float64Array.from(shareNow);
    offered[t] = off;
    dropped[t] = drop;
    for (let e = 0; e < E; e++) loads[e]![t] = served[e]!;

    // Scenario events at this second (edge failures), then the driver's turn.
    const changes: EdgeStateChange[] = [];
    for (const { ev } of events) {
      if (ev.kind !== 'edge-failure' || ev.edge === undefined) continue;
      const ei = index.get(ev.edge);
      if (ei === undefined) continue;
      if (t + 1 === ev.atS || (ev.atS === 0 && t === 0)) {
        failed[ei] = 1;
        changes.push({ edge: ev.edge, state: 'down' });
      }
      if (t + 1 === ev.endS) {
        failed[ei] = 0;
        changes.push({ edge: ev.edge, state: 'active' });
      }
    }
    const at = new Date(model.start.getTime() + (t + 1) * 1000);
    const body = await driver.second(t, at, served, changes);
    if (body) {
      const prev = versions[versions.length - 1]!.body;
      for (const text of changeNotes(prev, body)) steps.push({ t: t + 1, text });
      publish(t + 1, body);
      dnsV = versions.length - 1;
    }
  }

  const edges: EdgeResult[] = first.edges.map((ed, ei) => ({
    ...edgeSummary(ed.name, ed.capacityRps, ed.threshold, loads[ei]!),
    connectionsBroken: broken[ei]!,
  }));
  const sum = (a: Float32Array) => a.reduce((n, x) => n + x, 0);
  const offeredRequests = sum(offered);
  const droppedRequests = sum(dropped);
  const decisions = driver.log();
  await driver.close();
  return {
    strategy,
    durationS: T,
    edges,
    overThresholdSeconds: edges.reduce((n, e) => n + e.overThresholdSeconds, 0),
    overloadSeconds: edges.reduce((n, e) => n + e.overloadSeconds, 0),
    excessRequests: edges.reduce((n, e) => n + e.excessRequests, 0),
    offeredRequests,
    servedRequests: edges.reduce((n, e) => n + sum(e.load), 0),
    dsrCostRequests: dsrCost,
    droppedRequests,
    servedFartherRequests: fartherReq,
    addedRttMs: fartherReq > 0 ? fartherKm / fartherReq / KM_PER_RTT_MS : 0,
    connectionsBroken: broken.reduce((n, x) => n + x, 0),
    catchment: {
      countries: pop.countries,
      edges: first.edges.map((e) => ({ name: e.name, lat: e.lat, lon: e.lon })),
      before: maps[0]!,
      after: maps[1]!,
    },
    steps,
    decisions,
    offered,
    dropped,
  };
}
