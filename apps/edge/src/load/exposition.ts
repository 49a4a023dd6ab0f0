/**
 * A strict parser of the Prometheus text exposition format (version 0.0.4, what
 * node/nginx/haproxy/envoy exporters serve; the OpenMetrics `# EOF` line and `_total`
 * sample names are accepted too).
 *
 * Why not a package: the one maintained-looking candidate on npm
 * (parse-prometheus-text-format 1.1.1, last changed in 2020, untyped) is lenient where
 * a load signal must not be: it reads `foo 1 2 3` as value 1 with timestamp "23" and keeps
 * `foo abc` as the string "abc". A malformed exposition here is an error, never a number.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  /** `# TYPE` of each metric family. */
  types: Map<string, MetricType>;
  samples: Sample[];
}

export class ExpositionError extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(`exposition line ${line}: ${message}`);
    this.line = line;
  }
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/** A float as Go's strconv.ParseFloat reads it in the format (NaN, +Inf, -Inf included). */
export function parseValue(text: string): number | undefined {
  const t = text.toLowerCase();
  if (t === 'nan') return Number.NaN;
  if (t === '+inf' || t === 'inf') return Number.POSITIVE_INFINITY;
  if (t === '-inf') return Number.NEGATIVE_INFINITY;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) return undefined;
  return Number(text);
}

/**
 * Reads `{name="value",...}` from `text` at `pos` (just after the brace); returns the
 * labels and the position after the closing brace. Shared with the selector parser,
 * whose matchers may also be `!=`, `=~` and `!~` (`ops`).
 */
export function readLabelBlock(
  text: string,
  pos: number,
  ops: readonly string[] = ['='],
): { pairs: { name: string; op: string; value: string }[]; end: number } {
  const pairs: { name: string; op: string; value: string }[] = [];
  let i = pos;
  const skip = () => {
    while (text[i] === ' ' || text[i] === '\t') i++;
  };
  for (;;) {
    skip();
    if (text[i] === '}') return { pairs, end: i + 1 };
    const start = i;
    while (i < text.length && /[a-zA-Z0-9_]/.test(text[i] as string)) i++;
    const name = text.slice(start, i);
    if (!LABEL_NAME.test(name)) throw new Error(`bad label name at column ${start + 1}`);
    skip();
    const op = [...ops].sort((a, b) => b.length - a.length).find((o) => text.startsWith(o, i));
    if (!op) throw new Error(`expected ${ops.join(' or ')} after label "${name}"`);
    i += op.length;
    skip();
    if (text[i] !== '"') throw new Error(`label "${name}": value must be in double quotes`);
    i++;
    let value = '';
    for (;;) {
      const c = text[i];
      if (c === undefined) throw new Error(`label "${name}": unterminated value`);
      i++;
      if (c === '"') break;
      if (c === '\\') {
        const e = text[i++];
        if (e === 'n') value += '\n';
        else if (e === '\\' || e === '"') value += e;
        else throw new Error(`label "${name}": bad escape \\${e ?? ''}`);
      } else value += c;
    }
    if (pairs.some((p) => p.name === name && p.op === op)) throw new Error(`label "${name}" given twice`);
    pairs.push({ name, op, value });
    skip();
    if (text[i] === ',') {
      i++;
      continue;
    }
    if (text[i] === '}') return { pairs, end: i + 1 };
    throw new Error(`expected , or } after label "${name}"`);
  }
}

export function parseExposition(text: string): Exposition {
  const types = new Map<string, MetricType>();
  const samples: Sample[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = (lines[n] as string).replace(/\r$/, '');
    const bad = (msg: string) => new ExpositionError(n + 1, msg);
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const m = /^#\s*TYPE\s+(\S+)\s+(\S+)\s*$/.exec(line);
      if (m) {
        const [, name, type] = m as unknown as [string, string, string];
        if (!METRIC_NAME.test(name)) throw bad(`bad metric name "${name}" in TYPE`);
        // OpenMetrics types without a 0.0.4 equivalent count as untyped.
        const t = (TYPES.has(type as MetricType) ? type : 'untyped') as MetricType;
        if (types.has(name)) throw bad(`second TYPE line for "${name}"`);
        types.set(name, t);
      }
      continue; // HELP, EOF and other comments
    }
    let i = 0;
    while (i < line.length && /[a-zA-Z0-9_:]/.test(line[i] as string)) i++;
    const name = line.slice(0, i);
    if (!METRIC_NAME.test(name)) throw bad('a sample must start with a metric name');
    let labels: Record<string, string> = {};
    if (line[i] === '{') {
      try {
        const block = readLabelBlock(line, i + 1);
        labels = Object.fromEntries(block.pairs.map((p) => [p.name, p.value]));
        i = block.end;
      } catch (err) {
        throw bad((err as Error).message);
      }
    }
    const rest = line.slice(i);
    if (rest !== '' && !/^[ \t]/.test(rest)) throw bad(`unexpected "${rest[0]}" after "${name}"`);
    const fields = rest.trim().split(/[ \t]+/);
    if (fields.length < 1 || fields[0] === '' || fields.length > 2)
      throw bad(`expected a value and an optional timestamp after "${name}"`);
    const value = parseValue(fields[0] as string);
    if (value === undefined) throw bad(`"${fields[0]}" is not a number`);
    if (fields[1] !== undefined && !/^-?\d+$/.test(fields[1])) throw bad(`"${fields[1]}" is not a timestamp`);
    samples.push({ name, labels, value });
  }
  return { types, samples };
}

const SUFFIXES = ['_total', '_count', '_sum', '_bucket', '_created'] as const;

/**
 * How a sample's value behaves: `counter` for counters (and the _count, _sum and _bucket
 * series of histograms and summaries, which only go up), `gauge`, or undefined when the
 * exposition does not say (untyped, no TYPE line).
 */
export function sampleKind(types: Map<string, MetricType>, name: string): 'counter' | 'gauge' | undefined {
  const direct = types.get(name);
  if (direct === 'counter') return 'counter';
  if (direct === 'gauge') return 'gauge';
  for (const suffix of SUFFIXES) {
    if (!name.endsWith(suffix)) continue;
    const family = types.get(name.slice(0, -suffix.length));
    if (family === 'counter' && suffix === '_total') return 'counter';
    if ((family === 'histogram' || family === 'summary') && suffix !== '_total' && suffix !== '_created')
      return 'counter';
  }
  return undefined;
}
