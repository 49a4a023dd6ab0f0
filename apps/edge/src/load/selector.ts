import { readLabelBlock, type Sample } from './exposition.ts';

/** `metric{label="v", other!="w", path=~"/api/.*", code!~"5.."}` as in PromQL (regexes anchored). */
export interface Selector {
  metric: string;
  matchers: { label: string; op: '=' | '!=' | '=~' | '!~'; value: string; re?: RegExp }[];
  text: string;
}

export function parseSelector(text: string): Selector {
  const t = text.trim();
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{.*)?$/s.exec(t);
  if (!m) throw new Error(`"${text}" is not a metric selector (metric_name{label="value",...})`);
  const metric = m[1] as string;
  const matchers: Selector['matchers'] = [];
  if (m[2] !== undefined) {
    let block: ReturnType<typeof readLabelBlock>;
    try {
      block = readLabelBlock(m[2], 1, ['=~', '!~', '!=', '=']);
    } catch (err) {
      throw new Error(`selector "${text}": ${(err as Error).message}`);
    }
    if (block.end !== m[2].length) throw new Error(`selector "${text}": unexpected text after }`);
    for (const p of block.pairs) {
      const op = p.op as Selector['matchers'][number]['op'];
      let re: RegExp | undefined;
      if (op === '=~' || op === '!~') {
        try {
          re = new RegExp(`^(?:${p.value})$`, 's');
        } catch (err) {
          throw new Error(`selector "${text}": label "${p.name}": ${(err as Error).message}`);
        }
      }
      matchers.push({ label: p.name, op, value: p.value, ...(re ? { re } : {}) });
    }
  }
  return { metric, matchers, text: t };
}

/** Whether a sample is one of the selected series (a missing label matches as "", as in PromQL). */
export function matches(sel: Selector, s: Sample): boolean {
  if (s.name !== sel.metric) return false;
  return sel.matchers.every((m) => {
    const v = s.labels[m.label] ?? '';
    switch (m.op) {
      case '=':
        return v === m.value;
      case '!=':
        return v !== m.value;
      case '=~':
        return m.re?.test(v) ?? false;
      case '!~':
        return !(m.re?.test(v) ?? false);
    }
    return false;
  });
}
