import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError } from '../client/errors.ts';
import { call } from '../client/http.ts';
import type { Target } from '../client/target.ts';
import { renderData } from '../output/format.ts';
import { commandOf, type Globals, globals } from './common.ts';

// `plan` and `apply` send the merged files to the API (POST /v1/config/plan|apply); the
// plan is the API's, the file positions of its errors are the CLI's (it read the files).

export interface PlanOptions {
  maxChange?: string;
}

type Plan = {
  checksum: string;
  changes: {
    kind: string;
    key: string;
    op: 'create' | 'update' | 'delete';
    fields?: { path: string; before?: unknown; after?: unknown }[];
    object?: unknown;
  }[];
  summary: { create: number; update: number; delete: number };
  guard: { existing: number; changePercent: number; maxChangePercent: number; refusals: string[] };
  safety: { verdict: string; refusal: { rule: string; reason: string } | null };
  snapshotChanges: number;
  predictedLoads: {
    edge: string;
    beforeRps: number | null;
    afterRps: number | null;
    afterUtilisation: number | null;
  }[];
};

function maxChangeOf(o: PlanOptions): number | undefined {
  if (o.maxChange === undefined) return undefined;
  const n = Number(String(o.maxChange).replace(/%$/, ''));
  if (!Number.isFinite(n) || n < 0 || n > 100)
    throw new CliError('USAGE', `--max-change must be a percentage 0-100 (got "${o.maxChange}")`);
  return n;
}

async function planOf(target: Target, paths: string[], o: PlanOptions) {
  const { loadConfig } = await import('../config/load.ts');
  const loaded = loadConfig(paths);
  try {
    const { body } = await call<Plan>(target, 'POST', '/v1/config/plan', {
      config: loaded.document,
      maxChangePercent: maxChangeOf(o),
    });
    return { loaded, plan: body };
  } catch (err) {
    throw located(err, loaded);
  }
}

/** The API's field errors, each with the file, line and column it came from. */
function located(err: unknown, loaded: { locate(path: string): { where: string; localPath: string } }): unknown {
  if (!(err instanceof CliError) || err.code !== 'CONFIG_INVALID') return err;
  const raw = err.lines;
  const lines = raw.map((l) => {
    const m = /^(\/\S*|\/): (.*)$/.exec(l);
    if (!m) return l;
    const { where, localPath } = loaded.locate(m[1] === '/' ? '' : (m[1] ?? ''));
    return `${where}: ${localPath || '/'}: ${m[2]}`;
  });
  return new CliError(err.code, err.message, { lines, status: err.status });
}

const colours = () => process.stdout.isTTY && !process.env.NO_COLOR;
function paint(text: string, code: number) {
  return colours() ? `\x1b[${code}m${text}\x1b[0m` : text;
}

const short = (v: unknown) => (v === undefined ? '(none)' : JSON.stringify(v));

async function planText(plan: Plan): Promise<string> {
  const { stringify } = await import('yaml');
  const out: string[] = [];
  const sign = { create: paint('+', 32), update: paint('~', 33), delete: paint('-', 31) };
  for (const c of plan.changes) {
    out.push(`${sign[c.op]} ${c.kind} ${c.key}${c.op === 'update' ? '' : c.op === 'create' ? ' (new)' : ' (removed)'}`);
    if (c.op === 'update') {
      for (const f of c.fields ?? []) {
        if (f.path.endsWith('[-]')) out.push(`    ${paint(`- ${f.path.slice(0, -3)}: ${short(f.before)}`, 31)}`);
        else if (f.path.endsWith('[+]')) out.push(`    ${paint(`+ ${f.path.slice(0, -3)}: ${short(f.after)}`, 32)}`);
        else out.push(`    ${f.path}: ${short(f.before)} -> ${short(f.after)}`);
      }
    } else {
      const body = stringify(c.object, { lineWidth: 0 }).trimEnd().split('\n');
      for (const l of body)
        out.push(`    ${paint(`${c.op === 'create' ? '+' : '-'} ${l}`, c.op === 'create' ? 32 : 31)}`);
    }
  }
  const s = plan.summary;
  const total = s.create + s.update + s.delete;
  out.push(
    total === 0
      ? 'No changes: the configuration matches.'
      : `Plan: ${s.create} to create, ${s.update} to update, ${s.delete} to delete (${plan.guard.changePercent} % of ${plan.guard.existing} objects updated or deleted; limit ${plan.guard.maxChangePercent} %).`,
  );
  if (total > 0) {
    out.push(`Snapshot: ${plan.snapshotChanges} published value(s) change.`);
    out.push(
      plan.safety.refusal
        ? paint(`Safety: REFUSED by rule "${plan.safety.refusal.rule}": ${plan.safety.refusal.reason}`, 31)
        : 'Safety: pass.',
    );
    for (const l of plan.predictedLoads)
      out.push(
        `Predicted load: ${l.edge} ${l.beforeRps === null ? '?' : Math.round(l.beforeRps)} -> ${l.afterRps === null ? '?' : Math.round(l.afterRps)} rps (${l.afterUtilisation === null ? '?' : Math.round(l.afterUtilisation * 100)} %)`,
      );
    for (const r of plan.guard.refusals) out.push(paint(`Guard: apply refuses this plan without --force: ${r}.`, 31));
  }
  return `${out.join('\n')}\n`;
}

async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

interface ApplyOptions extends PlanOptions {
  doit?: boolean;
  force?: boolean;
  reason: string;
}

async function runPlan(g: Globals, paths: string[], o: PlanOptions): Promise<void> {
  const { plan } = await planOf(g.target, paths, o);
  process.stdout.write(g.format === 'table' ? await planText(plan) : await renderData(plan, g.format as 'json'));
  if (plan.changes.length > 0) process.exitCode = 2;
}

async function runApply(g: Globals, paths: string[], o: ApplyOptions): Promise<void> {
  const { loaded, plan } = await planOf(g.target, paths, o);
  const table = g.format === 'table';
  if (table) process.stdout.write(await planText(plan));
  if (plan.changes.length === 0) {
    if (!table) process.stdout.write(await renderData({ applied: false, plan }, g.format as 'json'));
    return;
  }
  if (plan.guard.refusals.length > 0 && !o.force)
    throw new CliError('PLAN_GUARDED', `not applied: ${plan.guard.refusals.join('; ')}; --force applies it anyway`);
  if (plan.safety.refusal && !o.force)
    throw new CliError(
      'SAFETY_REFUSED',
      `not applied: safety rule "${plan.safety.refusal.rule}": ${plan.safety.refusal.reason}; --force applies it anyway`,
    );
  if (!o.doit && !(await confirm('Apply this plan? [y/N] ')))
    throw new CliError('NOT_APPLIED', 'not applied: pass --doit (or answer yes on a terminal)');
  try {
    const { body } = await call<{ applied: boolean; forced: boolean; snapshotVersion: number | null }>(
      g.target,
      'POST',
      '/v1/config/apply',
      {
        config: loaded.document,
        checksum: plan.checksum,
        reason: o.reason,
        ...(o.force ? { force: true } : {}),
        ...(maxChangeOf(o) === undefined ? {} : { maxChangePercent: maxChangeOf(o) }),
      },
    );
    if (table)
      process.stdout.write(
        `Applied ${plan.changes.length} change(s)${body.forced ? ' (forced, audited)' : ''}; snapshot v${body.snapshotVersion ?? '-'}.\n`,
      );
    else process.stdout.write(await renderData(body, g.format as 'json'));
  } catch (err) {
    throw located(err, loaded);
  }
}

const planOpts = (cmd: Command) =>
  cmd.option('--max-change <percent>', 'refuse plans updating or deleting more than this share of objects', '30');

export function configCommands(program: Command): void {
  planOpts(
    program
      .command('plan')
      .description('show what applying the configuration would change (exit 0: nothing, 2: changes)')
      .argument('<paths...>', 'YAML files or directories of them (merged)'),
  ).action(async (paths: string[], ...rest: unknown[]) => {
    const g = await globals(commandOf(rest));
    await runPlan(g, paths, g.opts as PlanOptions);
  });

  planOpts(
    program
      .command('apply')
      .description('apply the configuration through the API after showing its plan (needs --doit or a yes)')
      .argument('<paths...>', 'YAML files or directories of them (merged)'),
  )
    .option('--doit', 'apply without asking')
    .option(
      '--force',
      'apply although the guard (share of changes, removing every edge/prefix/service) or a safety rule refuses',
    )
    .option('--reason <text>', 'recorded in the audit log', 'configuration apply')
    .action(async (paths: string[], ...rest: unknown[]) => {
      const g = await globals(commandOf(rest));
      await runApply(g, paths, g.opts as unknown as ApplyOptions);
    });

  program
    .command('export')
    .description('write the configuration (GET /v1/config) as YAML, the format plan and apply take')
    .option('-f, --file <file>', 'file to write (default: standard output)')
    .action(async (...args: unknown[]) => {
      const g = await globals(commandOf(args));
      const { body } = await call(g.target, 'GET', '/v1/config');
      const text = await renderData(body, g.format === 'json' ? 'json' : 'yaml');
      if (g.opts.file) writeFileSync(String(g.opts.file), text);
      else process.stdout.write(text);
    });

  planOpts(
    program
      .command('import')
      .description('apply a configuration file at once (= apply --doit); --dry-run = plan')
      .argument('<paths...>', 'YAML files or directories of them'),
  )
    .option('--dry-run', 'print the plan only')
    .option('--force', 'as apply --force')
    .option('--reason <text>', 'recorded in the audit log', 'configuration import')
    .action(async (paths: string[], ...rest: unknown[]) => {
      const g = await globals(commandOf(rest));
      const o = g.opts as unknown as ApplyOptions & { dryRun?: boolean };
      if (o.dryRun) await runPlan(g, paths, o);
      else await runApply(g, paths, { ...o, doit: true });
    });
}
