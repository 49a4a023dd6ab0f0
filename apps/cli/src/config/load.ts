import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { CliError } from '../client/errors.ts';

/** The list kinds of a configuration and the field that names an object of each. */
export const LIST_KINDS: Record<string, string> = {
  zones: 'name',
  edges: 'name',
  transits: 'name',
  prefixes: 'cidr',
  policies: 'name',
  services: 'name',
  slos: 'name',
  playbooks: 'name',
};

interface Origin {
  file: string;
  /** The object's node in its file, and its path there (`/edges/2`). */
  node: Node;
  localPath: string;
  lines: LineCounter;
}

/** The configuration merged from one or more files, with where each part came from. */
export interface LoadedConfig {
  document: Record<string, unknown>;
  files: string[];
  /** `file:line:col` of a path of the merged document (the nearest part that exists). */
  locate(path: string): { where: string; localPath: string };
}

const isYaml = (name: string) => /\.ya?ml$/i.test(name);

/** The YAML files of a path: the file itself, or every .yaml/.yml under a directory (sorted, recursive). */
export function configFiles(path: string): string[] {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch (err) {
    throw new CliError(
      'CONFIG_UNREADABLE',
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  if (!st.isDirectory()) return [path];
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 8) return; // bounded: no symlink loops
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.name.startsWith('.')) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p, depth + 1);
      else if (isYaml(e.name)) out.push(p);
    }
  };
  walk(path, 0);
  if (out.length === 0) throw new CliError('CONFIG_UNREADABLE', `${path} holds no .yaml or .yml file`);
  return out;
}

const pos = (lines: LineCounter, offset: number | undefined) => {
  const p = lines.linePos(offset ?? 0);
  return `${p.line}:${p.col}`;
};

/** Follows JSON-pointer segments through YAML nodes; stops at the last one that exists. */
function descend(node: Node, segments: string[]): { node: Node; used: number } {
  let cur = node;
  let used = 0;
  for (const seg of segments) {
    const key = seg.replace(/~1/g, '/').replace(/~0/g, '~');
    let next: unknown;
    if (isMap(cur)) {
      const pair = cur.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === key);
      // The key's own position when the value is missing or scalar-less.
      next = pair?.value ?? pair?.key;
    } else if (isSeq(cur) && /^\d+$/.test(key)) next = cur.items[Number(key)];
    if (!next || typeof next !== 'object' || !('range' in (next as object))) break;
    cur = next as Node;
    used++;
  }
  return { node: cur, used };
}

/**
 * Reads and merges configuration files. Each file must be a mapping; list kinds are
 * concatenated, settings merged key by key; the same object (or setting) in two files is
 * an error naming both. Errors are listed all at once, each as `file:line:col`.
 */
export function loadConfig(paths: string[], cwd = process.cwd()): LoadedConfig {
  const files = paths.flatMap(configFiles);
  const errors: string[] = [];
  const merged: Record<string, unknown[]> = {};
  const origins: Record<string, Origin[]> = {};
  const settings: Record<string, unknown> = {};
  const settingOrigin: Record<string, Origin> = {};
  const nice = (f: string) => {
    const r = relative(cwd, f);
    return r && !r.startsWith('..') ? r : f;
  };
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      errors.push(`${nice(file)}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      continue;
    }
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
    if (doc.errors.length > 0) {
      for (const e of doc.errors) errors.push(`${nice(file)}:${pos(lines, e.pos[0])}: ${e.message.split('\n')[0]}`);
      continue;
    }
    const root = doc.contents;
    if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) {
      errors.push(
        `${nice(file)}: the file is empty; expected a mapping of settings, zones, edges, prefixes, services...`,
      );
      continue;
    }
    if (!isMap(root)) {
      const what = isSeq(root) ? 'a list' : `a scalar (${JSON.stringify((root as { value?: unknown }).value ?? null)})`;
      errors.push(
        `${nice(file)}:${pos(lines, root.range?.[0])}: the file holds ${what}; expected a mapping of settings, zones, edges, prefixes, services...`,
      );
      continue;
    }
    const js = doc.toJS() as Record<string, unknown>;
    for (const pair of root.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const value = js[key];
      const valueNode = (pair.value ?? pair.key) as Node;
      if (key === 'settings') {
        if (value === null || value === undefined) continue;
        if (typeof value !== 'object' || Array.isArray(value)) {
          errors.push(`${nice(file)}:${pos(lines, valueNode.range?.[0])}: /settings: expected a mapping`);
          continue;
        }
        for (const [k, v] of Object.entries(value)) {
          const node = descend(valueNode, [k]).node;
          const prior = settingOrigin[k];
          if (prior) {
            errors.push(
              `${nice(file)}:${pos(lines, node.range?.[0])}: /settings/${k}: also set in ${nice(prior.file)}:${pos(prior.lines, prior.node.range?.[0])}`,
            );
            continue;
          }
          settings[k] = v;
          settingOrigin[k] = { file, node, localPath: `/settings/${k}`, lines };
        }
        continue;
      }
      if (!(key in LIST_KINDS)) {
        // Unknown top-level keys go to the API, which names them; keep where they are.
        merged[key] = [value];
        origins[key] = [{ file, node: valueNode, localPath: `/${key}`, lines }];
        continue;
      }
      if (value === null || value === undefined) continue;
      if (!Array.isArray(value) || !isSeq(pair.value)) {
        errors.push(`${nice(file)}:${pos(lines, valueNode.range?.[0])}: /${key}: expected a list`);
        continue;
      }
      merged[key] ??= [];
      origins[key] ??= [];
      value.forEach((item, i) => {
        const node = (pair.value as { items: Node[] }).items[i] as Node;
        merged[key]?.push(item);
        origins[key]?.push({ file, node, localPath: `/${key}/${i}`, lines });
      });
    }
  }
  // The same object in two files (or twice in one): name both places.
  for (const [kind, field] of Object.entries(LIST_KINDS)) {
    const seen = new Map<string, Origin>();
    (merged[kind] ?? []).forEach((item, i) => {
      const raw = (item as Record<string, unknown> | null)?.[field];
      if (typeof raw !== 'string') return;
      const id = raw.toLowerCase().replace(/\.$/, '');
      const here = origins[kind]?.[i] as Origin;
      const prior = seen.get(id);
      if (prior) {
        const at = (o: Origin) => `${nice(o.file)}:${pos(o.lines, descend(o.node, [field]).node.range?.[0])}`;
        errors.push(
          `${at(here)}: ${here.localPath}/${field}: duplicate ${kind} "${raw}", also in ${at(prior)} (${prior.localPath})`,
        );
      } else seen.set(id, here);
    });
  }
  if (errors.length > 0)
    throw new CliError(
      'CONFIG_INVALID',
      `${errors.length} error(s) in ${files.length === 1 ? nice(files[0] ?? '') : `${files.length} files`}`,
      {
        lines: errors,
      },
    );

  const document: Record<string, unknown> = {};
  if (Object.keys(settings).length > 0) document.settings = settings;
  for (const [k, v] of Object.entries(merged)) document[k] = k in LIST_KINDS ? v : v[0];

  return {
    document,
    files,
    locate(path) {
      const segs = path.split('/').slice(1);
      const [top, index, ...rest] = segs;
      let origin: Origin | undefined;
      let tail: string[] = [];
      if (top === 'settings' && index !== undefined) {
        origin = settingOrigin[index];
        tail = rest;
      } else if (top && top in LIST_KINDS && index !== undefined && /^\d+$/.test(index)) {
        origin = origins[top]?.[Number(index)];
        tail = rest;
      } else if (top && origins[top]) {
        origin = origins[top]?.[0];
        tail = segs.slice(1);
      }
      if (!origin) return { where: files.length === 1 ? nice(files[0] ?? '') : '(merged)', localPath: path };
      const { node } = descend(origin.node, tail);
      return {
        where: `${nice(origin.file)}:${pos(origin.lines, node.range?.[0])}`,
        localPath: [origin.localPath, ...tail].join('/'),
      };
    },
  };
}
