import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CliError } from './errors.ts';

/** Where the API is (one URL or a comma-separated list) and which token to send. */
export interface Target {
  url: string;
  token: string | undefined;
  /** CA of the API's certificate and the client certificate (files): env, else the context. */
  tls: { ca?: string; cert?: string; key?: string };
  /** Where each part came from, for `catchment context current`. */
  source: { url: string; token: string };
}

export interface ContextEntry {
  url?: string;
  token?: string;
  /** A file holding the token (e.g. `.data/admin-token`), read at each call. */
  tokenFile?: string;
  /** PEM files: the CA the API's certificate must chain to, and a client certificate and key. */
  ca?: string;
  clientCert?: string;
  clientKey?: string;
}

export interface ContextsFile {
  current?: string;
  contexts: Record<string, ContextEntry>;
}

export interface GlobalFlags {
  apiUrl?: string;
  token?: string;
  context?: string;
}

/** `$CATCHMENT_CONFIG`, else `$XDG_CONFIG_HOME/catchment/config.yaml`, else `~/.config/catchment/config.yaml`. */
export function contextsPath(env = process.env): string {
  if (env.CATCHMENT_CONFIG) return env.CATCHMENT_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'catchment', 'config.yaml');
}

/** The contexts file, or an empty one when it does not exist. yaml is imported only when there is a file. */
export async function readContexts(path = contextsPath()): Promise<ContextsFile> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { contexts: {} };
    throw new CliError('CONTEXT_INVALID', `cannot read ${path}: ${(err as Error).message}`);
  }
  const { parse } = await import('yaml');
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new CliError('CONTEXT_INVALID', `${path} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return { contexts: {} };
  const d = doc as Partial<ContextsFile>;
  if (typeof doc !== 'object' || Array.isArray(doc) || (d.contexts !== undefined && typeof d.contexts !== 'object'))
    throw new CliError('CONTEXT_INVALID', `${path}: expected a mapping with "current" and "contexts"`);
  return { current: d.current, contexts: d.contexts ?? {} };
}

function readTokenFile(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new CliError('CONTEXT_INVALID', `cannot read token file ${path}: ${(err as Error).message}`);
  }
}

/**
 * Flags, then CATCHMENT_API_URL / CATCHMENT_API_TOKEN, then the named (--context,
 * CATCHMENT_CONTEXT) or current context, then the embedded default of `catchment start`
 * (its API address and the admin token it writes to `$CATCHMENT_DATA_DIR/admin-token`).
 * Each of url and token is resolved on its own, as kubectl resolves server and user.
 */
export async function resolveTarget(flags: GlobalFlags, env = process.env): Promise<Target> {
  let url = flags.apiUrl;
  let token = flags.token;
  const source = { url: url ? 'flag --api-url' : '', token: token ? 'flag --token' : '' };
  if (!url && env.CATCHMENT_API_URL) [url, source.url] = [env.CATCHMENT_API_URL, 'CATCHMENT_API_URL'];
  if (!token && env.CATCHMENT_API_TOKEN) [token, source.token] = [env.CATCHMENT_API_TOKEN, 'CATCHMENT_API_TOKEN'];
  const wanted = flags.context ?? env.CATCHMENT_CONTEXT;
  let used: ContextEntry | undefined;
  if (!url || !token || wanted) {
    const file = await readContexts();
    const name = wanted ?? file.current;
    if (name !== undefined) {
      const ctx = file.contexts[name];
      if (!ctx) {
        if (wanted) throw new CliError('CONTEXT_UNKNOWN', `no context "${name}" in ${contextsPath(env)}`);
      } else {
        used = ctx;
        if (!url && ctx.url) [url, source.url] = [ctx.url, `context ${name}`];
        if (!token && ctx.token) [token, source.token] = [ctx.token, `context ${name}`];
        if (!token && ctx.tokenFile) [token, source.token] = [readTokenFile(ctx.tokenFile), `context ${name}`];
      }
    }
  }
  if (!url) {
    const host = env.CATCHMENT_API_HOST ?? '127.0.0.1';
    url = `http://${host.includes(':') ? `[${host}]` : host}:${env.CATCHMENT_API_PORT ?? 8080}`;
    source.url = 'default';
  }
  if (!token) {
    const file = join(env.CATCHMENT_DATA_DIR ?? '.data', 'admin-token');
    try {
      token = readFileSync(file, 'utf8').trim();
      source.token = file;
    } catch {
      // No token: the API answers 401 with its own clear problem.
    }
  }
  // Each file from the environment, else from the context that gave the URL or token.
  const tls: Target['tls'] = {};
  const ca = env.CATCHMENT_API_CA || used?.ca;
  const cert = env.CATCHMENT_API_CLIENT_CERT || used?.clientCert;
  const key = env.CATCHMENT_API_CLIENT_KEY || used?.clientKey;
  if (ca) tls.ca = ca;
  if (cert) tls.cert = cert;
  if (key) tls.key = key;
  return { url: url.replace(/\/+$/, ''), token, tls, source };
}
