import { ApiClient, ApiUnreachableError } from '@catchment/api-client';
import { CliError } from './errors.ts';
import type { Target } from './target.ts';

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  headers: Record<string, string | string[] | undefined>;
}

interface Problem {
  code?: string;
  title?: string;
  detail?: string;
  errors?: { path?: string; message?: string; code?: string }[];
  details?: Record<string, unknown>;
}

/** A problem+json answer as a CliError: its code and detail on one line, field errors below. */
export function problemError(status: number, body: unknown): CliError {
  const p = (body && typeof body === 'object' ? body : {}) as Problem;
  const lines = (p.errors ?? []).map((e) => `${e.path || '/'}: ${e.message ?? ''}${e.code ? ` (${e.code})` : ''}`);
  return new CliError(p.code ?? `HTTP_${status}`, p.detail ?? p.title ?? `the API answered ${status}`, {
    lines,
    status,
    details: p.details,
  });
}

const clients = new WeakMap<Target, ApiClient>();

/** The target's client (its URL list, the API's CA and the client certificate), made once. */
function clientOf(target: Target): ApiClient {
  let client = clients.get(target);
  if (!client) {
    try {
      client = new ApiClient({ urls: target.url, token: target.token, tls: target.tls ?? {} });
    } catch (err) {
      throw new CliError('USAGE', (err as Error).message);
    }
    clients.set(target, client);
  }
  return client;
}

/**
 * One JSON request to the API through @catchment/api-client (node:http, cheaper to load than
 * fetch, which matters for a CLI that must answer in well under 300 ms): the target's URLs in
 * order, failing over when one cannot be reached. Non-2xx answers throw the problem.
 */
export async function call<T = unknown>(
  target: Target,
  method: string,
  path: string,
  body?: unknown,
  opts: { timeoutMs?: number; ok?: number[]; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const client = clientOf(target);
  const headers = { ...opts.headers };
  // A write carrying an idempotency key is applied once however often it is sent.
  const retry = method === 'GET' || Object.keys(headers).some((h) => h.toLowerCase() === 'idempotency-key');
  let res: Awaited<ReturnType<ApiClient['json']>>;
  try {
    res = await client.json(method, path, {
      ...(body === undefined ? {} : { body }),
      headers,
      timeoutMs: opts.timeoutMs ?? 30_000,
      retry,
    });
  } catch (err) {
    if (!(err instanceof ApiUnreachableError)) throw err;
    const timedOut = err.attempts.length > 0 && err.attempts.every((a) => /no answer in/.test(a.reason));
    if (timedOut) throw new CliError('API_TIMEOUT', `no answer from ${target.url} in time`);
    throw new CliError(
      'API_UNREACHABLE',
      `${err.message}; is catchment running? (--api-url, CATCHMENT_API_URL or a context)`,
    );
  }
  if (res.status >= 400 && !opts.ok?.includes(res.status)) throw problemError(res.status, res.body);
  return { status: res.status, body: res.body as T, headers: res.headers };
}

/** Every item of a paged list (`items` + `nextCursor`), up to `max`. */
export async function listAll<T = Record<string, unknown>>(
  target: Target,
  path: string,
  query: Record<string, string | undefined> = {},
  max = 10_000,
): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null | undefined;
  // Bounded: at most max/500 + 1 pages.
  for (let page = 0; page <= Math.ceil(max / 500); page++) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) q.set(k, v);
    q.set('limit', String(Math.min(500, max - items.length)));
    if (cursor) q.set('cursor', cursor);
    const { body } = await call<{ items: T[]; nextCursor: string | null }>(target, 'GET', `${path}?${q}`);
    items.push(...body.items);
    cursor = body.nextCursor;
    if (!cursor || items.length >= max) break;
  }
  return items;
}

export const enc = encodeURIComponent;
