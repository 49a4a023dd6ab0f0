import { useEffect, useState } from 'preact/hooks';
import type { ActionSpec } from './components/action-dialog.ts';
import type { Me, Snapshot, SnapshotEdge } from './types.ts';

export interface State {
  me: Me | null;
  /** Why the operator is at the login form (a refused token), if any. */
  loginMessage: string | null;
  snapshot: Snapshot | null;
  /** The snapshot's edges with the latest reported loads (live.ts liveEdges). */
  edges: SnapshotEdge[];
  /** Null while the API answers; the reason while it does not. */
  unreachable: string | null;
  /** Bumped on every new snapshot version and every change made here: pages refetch. */
  generation: number;
  /** The action dialog that is open, if any (components/action-dialog.ts). */
  dialog: { spec: ActionSpec; onDone: (() => void) | undefined } | null;
}

const listeners = new Set<() => void>();
export const state: State = {
  me: null,
  loginMessage: null,
  snapshot: null,
  edges: [],
  unreachable: null,
  generation: 0,
  dialog: null,
};

function emit(): void {
  for (const l of listeners) l();
}

/** The one shared state of the dashboard; components re-render when it changes. */
export const store = {
  set(patch: Partial<State>): void {
    Object.assign(state, patch);
    emit();
  },
  unreachable(reason: string): void {
    if (state.unreachable !== reason) store.set({ unreachable: reason });
  },
  reachable(): void {
    if (state.unreachable !== null) store.set({ unreachable: null });
  },
  signedOut(message: string): void {
    if (state.me) store.set({ me: null, loginMessage: message });
  },
  /** Something changed (here or in a new snapshot): pages fetch their lists again now. */
  changed(): void {
    store.set({ generation: state.generation + 1 });
  },
  subscribe(l: () => void): () => void {
    listeners.add(l);
    return () => listeners.delete(l);
  },
};

export function useStore(): State {
  const [, setTick] = useState(0);
  useEffect(() => store.subscribe(() => setTick((n) => n + 1)), []);
  return state;
}

export const canAct = (me: Me | null): boolean => me?.role === 'operator' || me?.role === 'admin';
