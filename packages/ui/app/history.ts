import type { SnapshotEdge } from './types.ts';

/**
 * Load history, kept by the dashboard itself: the API holds each edge's latest load (in the
 * snapshot and the agents' reports) but keeps no series, so every browser tab records what
 * it sees (each change, and a sample every 5 s otherwise), bounded, in session storage so a
 * reload keeps it.
 */
const KEY = 'catchment.loads';
const MAX_POINTS = 2000;
const MAX_AGE_MS = 6 * 3600_000;

export interface LoadPoint {
  /** Seconds since the epoch (uPlot's unit). */
  t: number;
  rps: number | null;
  capacity: number;
}

let series: Record<string, LoadPoint[]> = load();

function load(): Record<string, LoadPoint[]> {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) ?? '{}') as Record<string, LoadPoint[]>;
  } catch {
    return {};
  }
}

let saveTimer: ReturnType<typeof setTimeout> | undefined;
function save(): void {
  saveTimer ??= setTimeout(() => {
    saveTimer = undefined;
    try {
      sessionStorage.setItem(KEY, JSON.stringify(series));
    } catch {
      // Storage full: the history lives on in memory for this tab.
    }
  }, 1000);
}

export function recordLoads(edges: SnapshotEdge[], fresh = true): void {
  const now = Date.now();
  const t = now / 1000;
  for (const e of edges) {
    const s = series[e.name] ?? [];
    series[e.name] = s;
    const last = s[s.length - 1];
    // A sample with no change only moves time on (one point per 5 s at most).
    if (!fresh && last && last.rps === e.loadRps && t - last.t < 5) continue;
    s.push({ t, rps: e.loadRps, capacity: e.capacityRps });
    while (s.length > MAX_POINTS || (s[0] && s[0].t * 1000 < now - MAX_AGE_MS)) s.shift();
  }
  save();
}

export function loadHistory(edge: string): LoadPoint[] {
  return series[edge] ?? [];
}

export function clearHistory(): void {
  series = {};
  sessionStorage.removeItem(KEY);
}
