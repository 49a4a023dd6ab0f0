/**
 * The catchment at one second: per client country, the load each edge received (before DSR
 * forwards any of it), and what reached no edge.
 */
export interface CatchmentAt {
  atS: number;
  /** [country * (edges + 1) + edge], the last column: reached no edge. */
  load: Float64Array;
}

export interface Catchment {
  countries: { code: string; lat: number; lon: number }[];
  edges: { name: string; lat: number; lon: number }[];
  /** Before the first event or action (the start when there is none), and at the last second. */
  before: CatchmentAt;
  after: CatchmentAt;
}

/** The second the "before" map is taken: the one before the scenario's first event or scripted action. */
export function beforeSecond(model: { events: { atS: number }[]; actions: { atS: number }[] }): number {
  const first = Math.min(...model.events.map((e) => e.atS), ...model.actions.map((a) => a.atS));
  return Number.isFinite(first) ? Math.max(0, first - 1) : 0;
}

/** The edge that receives most of a country's load (null: most of it reaches none, or it has none). */
export function mainEdge(c: Catchment, at: CatchmentAt, country: number): string | null {
  const W = c.edges.length + 1;
  let best = -1;
  let most = 0;
  for (let e = 0; e < W; e++) {
    const v = at.load[country * W + e]!;
    if (v > most) {
      most = v;
      best = e;
    }
  }
  return best < 0 || best === c.edges.length ? null : c.edges[best]!.name;
}

/** Per country, each receiving edge's share of its load (`none`: reached no edge), for the JSON. */
export function catchmentShares(c: Catchment, at: CatchmentAt): Record<string, Record<string, number>> {
  const W = c.edges.length + 1;
  const out: Record<string, Record<string, number>> = {};
  c.countries.forEach((country, ci) => {
    let total = 0;
    for (let e = 0; e < W; e++) total += at.load[ci * W + e]!;
    const shares: Record<string, number> = {};
    for (let e = 0; e < W; e++) {
      const s = total > 0 ? at.load[ci * W + e]! / total : 0;
      if (s >= 0.0005) shares[e === c.edges.length ? 'none' : c.edges[e]!.name] = Math.round(s * 1000) / 1000;
    }
    out[country.code] = shares;
  });
  return out;
}
