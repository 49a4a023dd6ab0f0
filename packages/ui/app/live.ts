import { useEffect, useRef, useState } from 'preact/hooks';
import { api, qs } from './api.ts';
import { state, store } from './store.ts';
import type { Consumer, Snapshot, SnapshotEdge } from './types.ts';

const WAIT_SECONDS = 25;
const RETRY_MS = 1000;

/**
 * Follows the published snapshot with the API's long-poll (GET /v1/snapshot?since=&wait=),
 * the protocol DNS servers and agents use: a new version arrives the moment it is
 * published. Returns a stop function.
 */
export function followSnapshots(): () => void {
  let stopped = false;
  let ctrl: AbortController | undefined;
  const loop = async () => {
    while (!stopped) {
      ctrl = new AbortController();
      try {
        const since = state.snapshot?.version;
        const snap = await api<Snapshot | undefined>(
          `/v1/snapshot${qs({ since, wait: since === undefined ? undefined : WAIT_SECONDS })}`,
          { signal: ctrl.signal, accept: [304] },
        );
        if (snap && snap.version !== state.snapshot?.version) {
          store.set({ snapshot: snap, edges: liveEdges(snap, reports) });
          store.changed();
        }
      } catch (err) {
        if (stopped) return;
        if ((err as { status?: number }).status === 401) return;
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  };
  void loop();
  // Edge agents report their load more often than snapshots are published (a report alone
  // publishes nothing): the map and the charts take each edge's latest report.
  let reports: Consumer[] = [];
  const sample = async () => {
    try {
      reports = (await api<{ items: Consumer[] }>('/v1/consumers?kind=edge&limit=500')).items;
    } catch {
      return;
    }
    if (!state.snapshot || stopped) return;
    store.set({ edges: liveEdges(state.snapshot, reports) });
  };
  void sample();
  const sampler = setInterval(sample, 1000);
  return () => {
    stopped = true;
    ctrl?.abort();
    clearInterval(sampler);
  };
}

/**
 * The snapshot's edges with each one's load from its agent's latest report when that is
 * newer than the snapshot (consumer `edge:<name>`, the name edge agents report under).
 */
export function liveEdges(snap: Snapshot, reports: Consumer[]): SnapshotEdge[] {
  const published = new Date(snap.createdAt).getTime();
  return snap.body.edges.map((e) => {
    const r = reports.find((c) => c.name === `edge:${e.name}`);
    const rps = r?.load?.rps;
    if (!r || typeof rps !== 'number' || new Date(r.reportedAt).getTime() <= published) return e;
    return {
      ...e,
      loadRps: rps,
      utilisation: e.capacityRps > 0 ? rps / e.capacityRps : null,
      loadReportedAt: r.reportedAt,
    };
  });
}

export interface Polled<T> {
  data: T | undefined;
  error: Error | undefined;
  reload: () => void;
}

/**
 * A list the API has no long-poll for (runs, audit, actions, consumers): fetched when the
 * page opens, again on every new snapshot or change made here, and every `everyMs`
 * (1 s by default) so runs advance on screen without a reload. Null path: nothing.
 */
export function usePoll<T>(path: string | null, everyMs = 1000): Polled<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const [nonce, setNonce] = useState(0);
  const generation = useRef(state.generation);
  useEffect(() => {
    if (!path) return;
    let alive = true;
    let inFlight = false;
    const fetchNow = async () => {
      if (inFlight) return;
      inFlight = true;
      try {
        const d = await api<T>(path);
        if (alive) {
          setData(d);
          setError(undefined);
        }
      } catch (err) {
        if (alive) setError(err as Error);
      } finally {
        inFlight = false;
      }
    };
    void fetchNow();
    const timer = setInterval(fetchNow, everyMs);
    const unsubscribe = store.subscribe(() => {
      if (state.generation !== generation.current) {
        generation.current = state.generation;
        void fetchNow();
      }
    });
    return () => {
      alive = false;
      clearInterval(timer);
      unsubscribe();
    };
  }, [path, everyMs, nonce]);
  return { data, error, reload: () => setNonce((n) => n + 1) };
}
