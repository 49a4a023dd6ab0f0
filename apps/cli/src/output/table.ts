export interface Column<T> {
  header: string;
  get(row: T): unknown;
  /** Right-align (numbers). */
  right?: boolean;
}

/** Text of one cell: empty for null, lists comma-joined, objects compact. */
export function cell(v: unknown): string {
  if (v === null || v === undefined || v === '') return '-';
  if (Array.isArray(v)) return v.length === 0 ? '-' : v.map(cell).join(',');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** A ratio as a percentage (0.845 → `85%`, or with `digits` decimals); `-` when unknown. */
export function percent(v: unknown, digits = 0): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '-';
  return `${digits ? (v * 100).toFixed(digits) : Math.round(v * 100)}%`;
}

/** How wide the terminal is; 80 when unknown (pipes), as kubectl and birdc assume. */
export function terminalWidth(): number {
  const env = Number(process.env.COLUMNS);
  if (Number.isInteger(env) && env >= 20) return env;
  return process.stdout.isTTY && process.stdout.columns ? process.stdout.columns : 80;
}

/**
 * A plain table, columns separated by two spaces, shrunk to the terminal width by
 * cutting the widest columns (ending them with `~`) rather than wrapping lines.
 */
export function renderTable<T>(rows: T[], columns: Column<T>[], width = terminalWidth()): string {
  const cells = rows.map((r) => columns.map((c) => cell(c.get(r)).replace(/\s+/g, ' ')));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const total = () => widths.reduce((s, w) => s + w, 0) + 2 * (columns.length - 1);
  // Shrink the widest column one character at a time (bounded by the total width).
  for (let guard = 0; total() > width && guard < 10_000; guard++) {
    const max = Math.max(...widths);
    const i = widths.lastIndexOf(max);
    if (max <= Math.max(4, columns[i]?.header.length ?? 0)) break;
    widths[i] = max - 1;
  }
  const fit = (s: string, w: number, right?: boolean) => {
    const t = s.length > w ? `${s.slice(0, Math.max(0, w - 1))}~` : s;
    return right ? t.padStart(w) : t.padEnd(w);
  };
  const line = (vals: string[]) =>
    vals
      .map((v, i) => fit(v, widths[i] ?? 0, columns[i]?.right))
      .join('  ')
      .trimEnd();
  return `${[line(columns.map((c) => c.header)), ...cells.map(line)].join('\n')}\n`;
}

/** Key: value lines for one object (describe). */
export function renderFields(fields: [string, unknown][]): string {
  const w = Math.max(...fields.map(([k]) => k.length)) + 1;
  return `${fields.map(([k, v]) => `${`${k}:`.padEnd(w)} ${cell(v)}`).join('\n')}\n`;
}

/** Indents every non-empty line (nested tables). */
export const indent = (text: string, by = '  ') =>
  text
    .split('\n')
    .map((l) => (l ? `${by}${l}` : l))
    .join('\n');

/** An object of the API's JSON, read loosely for display (its schema is the API's OpenAPI document). */
// biome-ignore lint/suspicious/noExplicitAny: display code reads many optional fields of API JSON
export type Row = Record<string, any>;
