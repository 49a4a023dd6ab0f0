import type { Command } from 'commander';
import { call, listAll } from '../client/http.ts';
import type { Target } from '../client/target.ts';
import { printValue } from '../output/format.ts';
import { percent, type Row, renderTable } from '../output/table.ts';
import { commandOf, globals } from './common.ts';

export interface EdgeStatus {
  name: string;
  state: string;
  override: string;
  usable: boolean;
  automation: string;
  loadRps: number | null;
  capacityRps: number;
  utilisation: number | null;
  shiftPercent: number;
  dsrFraction: number;
  desired: { prefix: string; state: string; communities: string[] }[];
  observed: { prefix: string; state: string }[] | null;
  agentVersion: number | null;
  activeActions: number;
}

export interface Status {
  snapshotVersion: number;
  frozen: boolean;
  edges: EdgeStatus[];
}

/**
 * Configured and effective state side by side, as `gdnsdctl states` shows forced and real
 * state: the published snapshot (what DNS and the edges act on), the active actions, and
 * what each edge agent last reported having announced.
 */
export async function loadStatus(target: Target): Promise<Status> {
  const [snap, actions, consumers] = await Promise.all([
    call<{ version: number; body: Row }>(target, 'GET', '/v1/snapshot'),
    listAll<Row>(target, '/v1/actions', { active: 'true' }),
    listAll<Row>(target, '/v1/consumers', { kind: 'edge' }),
  ]);
  const body = snap.body.body;
  const frozenEdges = new Set<string>(body.automation?.frozenEdges ?? []);
  const edges = (body.edges as Row[]).map((e): EdgeStatus => {
    const agent = consumers.find((c) => c.name === `edge:${e.name}`);
    const dsr = (body.dsr as Row[]).find((d) => d.edge === e.name);
    return {
      name: e.name,
      state: e.state,
      override: e.override,
      usable: e.usable,
      automation: body.automation?.frozen ? 'frozen (global)' : frozenEdges.has(e.name) ? 'frozen' : 'on',
      loadRps: e.loadRps,
      capacityRps: e.capacityRps,
      utilisation: e.utilisation,
      shiftPercent: e.shiftPercent,
      dsrFraction: dsr?.enabled ? dsr.fraction / 65536 : 0,
      desired: (body.announcements as Row[])
        .filter((a) => a.edge === e.name)
        .map((a) => ({ prefix: a.prefix, state: a.state, communities: a.communities })),
      observed: Array.isArray(agent?.details?.announcements)
        ? agent.details.announcements.map((a: Row) => ({ prefix: a.prefix, state: a.state }))
        : null,
      agentVersion: agent?.snapshotVersion ?? null,
      activeActions: actions.filter((a) => a.edge === e.name).length,
    };
  });
  return { snapshotVersion: snap.body.version, frozen: !!body.automation?.frozen, edges };
}

const announced = (list: { state: string }[] | null) =>
  list === null ? '-' : `${list.filter((a) => a.state === 'announced').length}/${list.length}`;

export function statusTable(s: Status): string {
  const rows = s.edges.map((e) => ({
    ...e,
    load: `${e.loadRps === null ? '-' : Math.round(e.loadRps)}/${e.capacityRps}`,
  }));
  const head = `snapshot v${s.snapshotVersion}; automation ${s.frozen ? 'FROZEN globally' : 'on'}\n`;
  return (
    head +
    renderTable(rows, [
      { header: 'EDGE', get: (r) => r.name },
      { header: 'STATE', get: (r) => r.state },
      { header: 'OVERRIDE', get: (r) => r.override },
      { header: 'SERVING', get: (r) => (r.usable ? 'yes' : 'NO') },
      { header: 'AUTO', get: (r) => r.automation },
      { header: 'LOAD/CAP', get: (r) => r.load, right: true },
      { header: 'UTIL', get: (r) => percent(r.utilisation), right: true },
      { header: 'SHIFT', get: (r) => `${r.shiftPercent}%`, right: true },
      { header: 'DSR', get: (r) => (r.dsrFraction ? percent(r.dsrFraction) : '-'), right: true },
      { header: 'WANT', get: (r) => announced(r.desired) },
      { header: 'HAVE', get: (r) => announced(r.observed) },
      { header: 'ACT', get: (r) => r.activeActions, right: true },
    ])
  );
}

export function statusCommand(program: Command): void {
  program
    .command('status')
    .description('every edge: configured state, override, automation, load/capacity, announcements wanted vs reported')
    .action(async (...args: unknown[]) => {
      const g = await globals(commandOf(args));
      const s = await loadStatus(g.target);
      await printValue(() => statusTable(s), s, g.format);
    });
}
