import type { Command } from 'commander';
import { CliError } from '../client/errors.ts';
import { call, enc, listAll } from '../client/http.ts';
import type { Target } from '../client/target.ts';
import { renderData } from '../output/format.ts';
import { cell, type Row, renderFields, renderTable } from '../output/table.ts';
import { ago, commandOf, globals } from './common.ts';
import { KINDS, kindOf } from './kinds.ts';
import { loadStatus } from './status.ts';

interface Described {
  kind: string;
  object: Row;
  related: Record<string, Row[]>;
}

/** An edge with what hangs on it: prefixes, announcements wanted vs reported, actions, SLOs, runs. */
async function describeEdge(target: Target, name: string): Promise<Described> {
  const object = (await call<Row>(target, 'GET', `/v1/edges/${enc(name)}`)).body;
  const [prefixes, status, actions, slos, runs, signals] = await Promise.all([
    listAll(target, '/v1/prefixes', { edge: name }),
    loadStatus(target),
    listAll(target, '/v1/actions', { edge: name, active: 'true' }),
    listAll(target, '/v1/slos', { edge: name }),
    listAll(target, '/v1/runs', { edge: name }, 20),
    listAll(target, '/v1/signals', { edge: name, status: 'firing' }, 50),
  ]);
  const st = status.edges.find((e) => e.name === name);
  const observed = new Map((st?.observed ?? []).map((a) => [a.prefix, a.state]));
  const announcements = (st?.desired ?? []).map((a) => ({
    prefix: a.prefix,
    desired: a.state,
    observed: st?.observed ? (observed.get(a.prefix) ?? 'absent') : 'no agent',
    communities: a.communities,
  }));
  const firing = new Set(signals.map((s) => s.slo).filter(Boolean));
  return {
    kind: 'edge',
    object: {
      ...object,
      effective: st && {
        serving: st.usable,
        automation: st.automation,
        utilisation: st.utilisation,
        shiftPercent: st.shiftPercent,
      },
    },
    related: {
      prefixes,
      announcements,
      actions,
      slos: slos.map((s) => ({ ...s, state: firing.has(s.name) ? 'firing' : 'ok' })),
      runs,
      signals,
    },
  };
}

async function describeOther(target: Target, kind: string, name: string): Promise<Described> {
  const spec = KINDS[kind];
  if (!spec?.one) throw new CliError('USAGE', `describe does not know ${kind}`);
  const object = (await call<Row>(target, 'GET', spec.one.replace('{}', enc(name)))).body;
  const related: Record<string, Row[]> = {};
  if (kind === 'prefixes') {
    const snap = (await call<Row>(target, 'GET', '/v1/snapshot')).body;
    related.announcements = (snap.body.announcements as Row[]).filter((a) => a.prefix === object.cidr);
    related.actions = (await listAll<Row>(target, '/v1/actions', { active: 'true' })).filter(
      (a) => a.prefix === object.cidr || a.params?.prefix === object.cidr,
    );
  } else if (kind === 'playbooks') {
    related.runs = await listAll(target, '/v1/runs', { playbook: name }, 20);
  } else if (kind === 'runs') {
    related.steps = object.steps ?? [];
  } else if (kind === 'services') {
    related.addresses = Object.entries(object.addresses ?? {}).map(([edge, a]) => ({ edge, ...(a as Row) }));
  }
  return { kind: kind.replace(/s$/, '').replace(/ie$/, 'y'), object, related };
}

const RELATED_COLUMNS: Record<string, string[]> = {
  prefixes: ['cidr', 'kind', 'supernet', 'communities'],
  announcements: ['prefix', 'edge', 'desired', 'observed', 'state', 'communities', 'reason'],
  actions: ['id', 'kind', 'params', 'expiresAt', 'actor', 'reason'],
  slos: ['name', 'metric', 'enter', 'exit', 'window', 'state'],
  runs: ['id', 'playbook', 'state', 'currentStep', 'startedAt'],
  signals: ['id', 'name', 'slo', 'severity', 'startsAt'],
  steps: ['position', 'stage', 'kind', 'state', 'decidedBy', 'endedAt'],
  addresses: ['edge', 'v4', 'v6'],
};

function text(d: Described): string {
  const top = Object.entries(d.object).filter(([k]) => k !== 'steps' && k !== 'effective');
  const flat: [string, unknown][] = top.map(([k, v]) => [
    k,
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.entries(v)
          .map(([a, b]) => `${a}=${cell(b)}`)
          .join(' ')
      : v,
  ]);
  if (d.object.effective)
    flat.push([
      'effective',
      Object.entries(d.object.effective)
        .map(([a, b]) => `${a}=${cell(b)}`)
        .join(' '),
    ]);
  let out = renderFields(flat);
  for (const [name, rows] of Object.entries(d.related)) {
    out += `\n${name[0]?.toUpperCase()}${name.slice(1)} (${rows.length}):\n`;
    if (rows.length === 0) continue;
    const present = (RELATED_COLUMNS[name] ?? Object.keys(rows[0] ?? {})).filter((c) =>
      rows.some((r) => r[c] !== undefined),
    );
    const table = renderTable(
      rows,
      present.map((c) => ({
        header: c.toUpperCase(),
        get: (r: Row) =>
          /At$/.test(c)
            ? ago(r[c])
            : c === 'params' && r[c]
              ? Object.entries(r[c])
                  .map(([a, b]) => `${a}=${cell(b)}`)
                  .join(' ')
              : r[c],
      })),
      (process.stdout.columns ?? 80) - 2,
    );
    out += table
      .split('\n')
      .map((l) => (l ? `  ${l}` : l))
      .join('\n');
  }
  return out;
}

export function describeCommand(program: Command): void {
  program
    .command('describe')
    .description('one object with its related objects (an edge: prefixes, announcements, actions, SLOs, runs)')
    .argument('<kind>', 'edge, prefix, service, policy, slo, playbook, run, action, zone, transit')
    .argument('<name>', 'name, id or CIDR')
    .action(async (kind: string, name: string, ...rest: unknown[]) => {
      const g = await globals(commandOf(rest));
      const found = kindOf(kind);
      if (!found) throw new CliError('USAGE', `unknown kind "${kind}"`);
      const d =
        found[0] === 'edges' ? await describeEdge(g.target, name) : await describeOther(g.target, found[0], name);
      if (g.format === 'table') process.stdout.write(text(d));
      else process.stdout.write(await renderData(d, g.format));
    });
}
