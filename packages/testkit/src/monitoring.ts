import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/** The monitoring kit of the repository (deploy/monitoring). */
export const MONITORING_KIT = new URL('../../../deploy/monitoring/', import.meta.url).pathname;

export interface KitExpression {
  /** File and panel / rule it comes from. */
  where: string;
  expr: string;
}

interface Panel {
  title?: string;
  targets?: { expr?: string }[];
}
interface Dashboard {
  panels?: Panel[];
  templating?: { list?: { name: string; definition?: string }[] };
}

/** Every PromQL expression of the kit's dashboards (panels and variables). */
export function dashboardExpressions(dir = join(MONITORING_KIT, 'grafana/dashboards')): KitExpression[] {
  const out: KitExpression[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const d = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Dashboard;
    for (const p of d.panels ?? []) {
      for (const t of p.targets ?? []) if (t.expr) out.push({ where: `${file}: ${p.title}`, expr: t.expr });
    }
    for (const v of d.templating?.list ?? []) {
      if (v.definition) out.push({ where: `${file}: variable ${v.name}`, expr: v.definition });
    }
  }
  return out;
}

/** Every expression of the kit's rules, and the names the recording rules define. */
export function ruleExpressions(file = join(MONITORING_KIT, 'prometheus/rules/catchment.rules.yml')): {
  expressions: KitExpression[];
  recorded: Set<string>;
} {
  const doc = parse(readFileSync(file, 'utf8')) as {
    groups: { name: string; rules: { record?: string; alert?: string; expr: string }[] }[];
  };
  const expressions: KitExpression[] = [];
  const recorded = new Set<string>();
  for (const g of doc.groups) {
    for (const r of g.rules) {
      if (r.record) recorded.add(r.record);
      expressions.push({ where: `${g.name}: ${r.record ?? r.alert}`, expr: r.expr });
    }
  }
  return { expressions, recorded };
}

/**
 * The metric names an expression selects: identifiers that are neither PromQL keywords or
 * functions (followed by "(") nor label names (inside braces, or in by/without lists).
 */
export function selectedMetrics(expr: string): string[] {
  // Grafana's label_values(metric, label) selects the metric only.
  const plain = expr.replace(/label_values\(\s*([^,]+),[^)]*\)/g, '$1');
  const noStrings = plain.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const noMatchers = noStrings.replace(/\{[^}]*\}/g, '{}');
  const noGroupings = noMatchers.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const keywords = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan', 'e']);
  const names = new Set<string>();
  for (const m of noGroupings.matchAll(
    /(?<![0-9.])[a-zA-Z_:][a-zA-Z0-9_:]*(?=\s*(\(|\{|\[|\s|$|\)|,|\/|\*|\+|-|>|<|=|!))/g,
  )) {
    const name = m[0];
    const next = noGroupings.slice((m.index ?? 0) + name.length).trimStart()[0];
    if (next === '(' || keywords.has(name.toLowerCase())) continue;
    if (/^\d/.test(name)) continue;
    names.add(name);
  }
  return [...names];
}

/** Metric names of an exposition (from its # TYPE lines; histograms also by their series names). */
export function exposedMetrics(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name = '', type] = m;
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(name + s);
  }
  return names;
}
