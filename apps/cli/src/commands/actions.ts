import type { Command } from 'commander';
import { CliError } from '../client/errors.ts';
import { call, enc } from '../client/http.ts';
import { printValue } from '../output/format.ts';
import { indent, type Row, renderTable } from '../output/table.ts';
import { commandOf, globals } from './common.ts';

interface ActionSpec {
  name: string;
  description: string;
  /** Positional arguments after the target. */
  args?: string[];
  path(target: string | undefined, args: string[]): string;
  params?(args: string[], opts: Row): Row | undefined;
  /** Undo commands take no --ttl. */
  undo?: boolean;
  /** The target argument: edge, prefix, action id, or an optional edge (freeze). */
  target: '<edge>' | '<prefix>' | '<action-id>' | '[edge]';
  options?: [string, string][];
}

const edge = (verb: string) => (t: string | undefined) => `/v1/edges/${enc(t ?? '')}/${verb}`;
const list = (v: unknown) =>
  v === undefined
    ? undefined
    : String(v)
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);

function number(text: string | undefined, what: string, scale: number): number {
  const s = String(text ?? '').replace(/%$/, '');
  const n = Number(s);
  if (s === '' || !Number.isFinite(n) || n < 0 || n > scale)
    throw new CliError('USAGE', `${what} must be a number from 0 to ${scale} (got "${text}")`);
  return n;
}

const withTargets = (p: Row, opts: Row) => {
  const targets = list(opts.targets);
  return targets ? { ...p, targets } : p;
};

export const ACTIONS: ActionSpec[] = [
  {
    name: 'drain',
    target: '<edge>',
    description: 'drain an edge: DNS stops answering with it (routes stay)',
    path: edge('drain'),
  },
  { name: 'undrain', target: '<edge>', undo: true, description: "undo an edge's drain", path: edge('undrain') },
  {
    name: 'force-down',
    target: '<edge>',
    description: 'force an edge down: no DNS answers, announcements withdrawn',
    path: edge('force-down'),
  },
  {
    name: 'force-up',
    target: '<edge>',
    description: 'force an edge up whatever its configured state',
    path: edge('force-up'),
  },
  {
    name: 'release',
    target: '<edge>',
    undo: true,
    description: 'undo force-down / force-up of an edge',
    path: edge('release'),
  },
  {
    name: 'shift',
    target: '<edge>',
    args: ['<percent>'],
    description: "answer <percent> % of an edge's DNS clients with other edges",
    options: [['--targets <edges>', 'comma-separated edges to shift to (default: nearest with headroom)']],
    path: edge('shift'),
    params: ([p], o) => withTargets({ percent: number(p, 'percent', 100) }, o),
  },
  { name: 'unshift', target: '<edge>', undo: true, description: "undo an edge's DNS shifts", path: edge('unshift') },
  {
    name: 'withdraw',
    target: '<prefix>',
    description: 'stop announcing a unicast prefix (traffic falls back to its supernet)',
    path: (t) => `/v1/prefixes/${enc(t ?? '')}/withdraw`,
  },
  {
    name: 'restore',
    target: '<prefix>',
    undo: true,
    description: 'announce a withdrawn unicast prefix again',
    path: (t) => `/v1/prefixes/${enc(t ?? '')}/restore`,
  },
  {
    name: 'communities',
    target: '<edge>',
    args: ['<communities>'],
    description: "add BGP communities (comma-separated a:b, a:b:c or names) to an edge's announcements",
    options: [
      ['--prefix <cidr>', 'only on this prefix of the edge'],
      ['--transit <name>', "only on this transit's BGP sessions (its catalogue's values)"],
    ],
    path: edge('communities'),
    params: ([c], o) => ({
      communities: list(c),
      ...(o.prefix ? { prefix: o.prefix } : {}),
      ...(o.transit ? { transit: o.transit } : {}),
    }),
  },
  {
    name: 'clear-communities',
    target: '<edge>',
    undo: true,
    description: "undo an edge's community actions",
    path: edge('clear-communities'),
  },
  {
    name: 'dsr',
    target: '<edge>',
    args: ['<fraction>'],
    description: 'DSR-shed a fraction (0-1) of new flows of an edge to other edges',
    options: [['--targets <edges>', 'comma-separated edges to send flows to']],
    path: edge('dsr'),
    params: ([f], o) => withTargets({ fraction: number(f, 'fraction', 1) }, o),
  },
  { name: 'undsr', target: '<edge>', undo: true, description: "undo an edge's DSR shedding", path: edge('undsr') },
  {
    name: 'freeze',
    target: '[edge]',
    description: 'freeze automation for one edge, or globally without an edge',
    path: (t) => (t ? `/v1/edges/${enc(t)}/freeze` : '/v1/automation/freeze'),
  },
  {
    name: 'unfreeze',
    target: '[edge]',
    undo: true,
    description: 'unfreeze automation for one edge, or globally',
    path: (t) => (t ? `/v1/edges/${enc(t)}/unfreeze` : '/v1/automation/unfreeze'),
  },
  {
    name: 'revert',
    target: '<action-id>',
    undo: true,
    description: 'revert one action by id (see catchment get actions)',
    path: (t) => {
      if (!/^\d+$/.test(t ?? '')) throw new CliError('USAGE', `action id must be a number (got "${t}")`);
      return `/v1/actions/${t}/revert`;
    },
  },
];

const fmt = (v: unknown) =>
  v === null || v === undefined ? '-' : typeof v === 'object' ? JSON.stringify(v) : String(v);

/** The answer of an action, for a terminal: what changed in the snapshot, the verdict, predicted loads. */
export function actionText(name: string, body: Row): string {
  const lines: string[] = [];
  if (body.dryRun) {
    lines.push(`dry run of ${name}: nothing changed`);
    lines.push(
      body.refusal
        ? `would be REFUSED by safety rule "${body.refusal.rule}": ${body.refusal.reason} (--force overrides)`
        : 'safety rules: pass',
    );
  } else {
    const a = body.action ?? body.reverted;
    const ids = Array.isArray(a) ? a.map((x: Row) => x.id) : a ? [a.id] : [];
    lines.push(
      Array.isArray(a)
        ? a.length === 0
          ? `${name}: nothing to undo`
          : `${name}: reverted action(s) ${ids.join(', ')}`
        : `${name}: action ${a?.id} created${a?.expiresAt ? `, expires ${a.expiresAt}` : ''}`,
    );
    if (body.forced) lines.push(`FORCED past safety rule "${body.refusal?.rule}": ${body.refusal?.reason}`);
    if (body.snapshotVersion !== undefined && body.snapshotVersion !== null)
      lines.push(`snapshot v${body.snapshotVersion}`);
  }
  const diff = (body.diff ?? []) as Row[];
  lines.push(diff.length === 0 ? 'no change to the published snapshot' : `snapshot changes (${diff.length}):`);
  let out = `${lines.join('\n')}\n`;
  if (diff.length > 0)
    out += indent(
      renderTable(diff, [
        { header: 'PATH', get: (r) => r.path },
        { header: 'BEFORE', get: (r) => fmt(r.before) },
        { header: 'AFTER', get: (r) => fmt(r.after) },
      ]),
    );
  out += predictedLoadsTable((body.predictedLoads ?? []) as Row[]);
  return out;
}

const rps = (v: unknown) => (typeof v === 'number' ? String(Math.round(v)) : '?');
const pct = (v: unknown) => (typeof v === 'number' ? `${(v * 100).toFixed(1)}%` : '?');

/**
 * The predicted load per affected edge (the edge shed first, then its targets), before
 * and after: the same prediction the controller records for the same playbook step.
 */
export function predictedLoadsTable(loads: Row[]): string {
  if (loads.length === 0) return '';
  return `predicted loads:\n${indent(
    renderTable(loads, [
      { header: 'EDGE', get: (r) => r.edge },
      { header: 'CAPACITY', get: (r) => rps(r.capacityRps), right: true },
      { header: 'BEFORE RPS', get: (r) => rps(r.beforeRps), right: true },
      { header: 'AFTER RPS', get: (r) => rps(r.afterRps), right: true },
      { header: 'BEFORE', get: (r) => pct(r.beforeUtilisation), right: true },
      { header: 'AFTER', get: (r) => pct(r.afterUtilisation), right: true },
    ]),
  )}`;
}

export function actionCommands(program: Command): void {
  for (const spec of ACTIONS) {
    const cmd = program.command(spec.name).description(spec.description).argument(spec.target);
    for (const a of spec.args ?? []) cmd.argument(a);
    cmd
      .requiredOption('--reason <text>', 'why (recorded in the audit log)')
      .option('--dry-run', 'print the snapshot diff, the predicted loads and the safety verdict, change nothing')
      .option('--force', 'override a safety refusal (the override is audited)');
    if (!spec.undo)
      cmd
        .option('--ttl <duration>', 'expire the action after this long, e.g. 30m, 4h')
        .option('--idempotency-key <key>', 'retrying with the same key returns the first action');
    for (const [flags, desc] of spec.options ?? []) cmd.option(flags, desc);
    cmd.action(async (...all: unknown[]) => {
      const c = commandOf(all);
      const g = await globals(c);
      const positional = all.slice(0, -2) as (string | undefined)[];
      const [target, ...args] = positional;
      const o = g.opts;
      const body: Row = { reason: o.reason };
      if (o.ttl) body.ttl = o.ttl;
      if (o.force) body.force = true;
      if (o.dryRun) body.dryRun = true;
      const params = spec.params?.(args as string[], o);
      if (params) body.params = params;
      const headers: Record<string, string> = {};
      if (o.idempotencyKey) headers['idempotency-key'] = String(o.idempotencyKey);
      const { body: res } = await call<Row>(g.target, 'POST', spec.path(target, args as string[]), body, { headers });
      await printValue(() => actionText(spec.name, res), res, g.format);
    });
  }
}
