import type { ActiveAction, NormalConfig, SnapshotBody } from '@catchment/core';
import { compileBody } from '@catchment/db';
import type { Driver, DriverLogEntry, EdgeStateChange } from './driver.ts';
import type { ScriptedStep } from './scenario.ts';

/**
 * A driver without a controller: the scenario's scripted operator actions (none for the
 * "no action" strategy), each in force from `at` until `until`, compiled into snapshots by
 * packages/db's `compileBody`, the compiler the API and the controller publish with.
 */
export class ScriptedDriver implements Driver {
  readonly #config: NormalConfig;
  readonly #steps: ScriptedStep[];
  readonly #standing: ActiveAction[];
  #start = new Date(0);
  #activeKey = '';
  #down = new Set<string>();
  #log: DriverLogEntry[] = [];

  /** `standing`: actions already in force when the scenario starts (from-now), each until its expiry. */
  constructor(config: NormalConfig, steps: ScriptedStep[] = [], standing: ActiveAction[] = []) {
    this.#config = config;
    this.#steps = steps;
    this.#standing = standing;
  }

  #edgeNames: string[] = [];

  async start(at: Date): Promise<SnapshotBody> {
    this.#start = at;
    const body = this.#compile(0, new Map());
    // `served` comes in the snapshot's edge order.
    this.#edgeNames = body.edges.map((e) => e.name);
    return body;
  }

  #active(t: number): ActiveAction[] {
    const at = new Date(this.#start.getTime() + t * 1000);
    const standing = this.#standing.filter((a) => a.expiresAt === null || a.expiresAt > at);
    // Scripted ids follow the standing ones' (the active set is keyed by id).
    const first = Math.max(0, ...this.#standing.map((a) => a.id));
    const scripted = this.#steps
      .map((s, i) => ({ s, i }))
      .filter(({ s }) => s.atS <= t && (s.untilS === undefined || t < s.untilS))
      .map(({ s, i }) => ({
        id: first + i + 1,
        kind: s.kind,
        edge: s.edge,
        params: s.params,
        createdAt: new Date(this.#start.getTime() + s.atS * 1000),
        expiresAt: s.untilS === undefined ? null : new Date(this.#start.getTime() + s.untilS * 1000),
        source: 'operator' as const,
        reason: 'scripted in the scenario',
      }));
    return [...standing, ...scripted];
  }

  #compile(t: number, loads: Map<string, number>): SnapshotBody {
    const actions = this.#active(t);
    this.#activeKey = `${actions.map((a) => a.id).join(',')}|${[...this.#down].sort().join(',')}`;
    const config = {
      ...this.#config,
      edges: this.#config.edges.map((e) => (this.#down.has(e.name) ? { ...e, state: 'down' as const } : e)),
    };
    return compileBody(config, actions, loads);
  }

  async second(t: number, _at: Date, served: Float64Array, changes: EdgeStateChange[]): Promise<SnapshotBody | null> {
    for (const c of changes) {
      if (c.state === 'down') this.#down.add(c.edge);
      else this.#down.delete(c.edge);
      this.#log.push({ t: t + 1, text: `${c.edge} ${c.state === 'down' ? 'failed' : 'is back'}` });
    }
    const key = `${this.#active(t + 1)
      .map((a) => a.id)
      .join(',')}|${[...this.#down].sort().join(',')}`;
    if (key === this.#activeKey) return null;
    const loads = new Map(this.#edgeNames.map((name, i) => [name, served[i] ?? 0]));
    return this.#compile(t + 1, loads);
  }

  log(): DriverLogEntry[] {
    return this.#log;
  }

  async close(): Promise<void> {}
}
