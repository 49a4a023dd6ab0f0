import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
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

/**
 * One JSON request to the API over node:http (cheaper to load than fetch, which matters
 * for a CLI that must answer in well under 300 ms). Non-2xx answers throw the problem.
 */
export function call<T = unknown>(
  target: Target,
  method: string,
  path: string,
  body?: unknown,
  opts: { timeoutMs?: number; ok?: number[]; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const url = new URL(path, `${target.url}/`);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  if (target.token) headers.authorization = `Bearer ${target.token}`;
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { method, headers, timeout: opts.timeoutMs ?? 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        if (text && /json/.test(res.headers['content-type'] ?? '')) {
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = text;
          }
        }
        const status = res.statusCode ?? 0;
        if (status >= 400 && !opts.ok?.includes(status)) reject(problemError(status, parsed));
        else resolve({ status, body: parsed as T, headers: res.headers });
      });
    });
    req.on('timeout', () => req.destroy(new CliError('API_TIMEOUT', `no answer from ${target.url} in time`)));
    req.on('error', (err) => {
      if (err instanceof CliError) return reject(err);
      const code = (err as NodeJS.ErrnoException).code ?? err.message;
      reject(
        new CliError(
          'API_UNREACHABLE',
          `cannot reach the API at ${target.url} (${code}); is catchment running? (--api-url, CATCHMENT_API_URL or a context)`,
        ),
      );
    });
    if (payload !== undefined) req.write(payload);
    req.end();
  });
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
