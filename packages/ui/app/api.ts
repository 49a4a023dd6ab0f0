import { store } from './store.ts';

const TOKEN_KEY = 'catchment.token';

/** A problem+json answer of the API (or a network failure, status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly problem: Record<string, unknown> | undefined;
  constructor(status: number, code: string, message: string, problem?: Record<string, unknown>) {
    super(message);
    this.status = status;
    this.code = code;
    this.problem = problem;
  }
}

export const token = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (t: string) => sessionStorage.setItem(TOKEN_KEY, t),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

export interface Request {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  body?: unknown;
  signal?: AbortSignal;
  /** Statuses that are answers, not errors (304 of a long-poll). */
  accept?: number[];
}

/**
 * Every call of the dashboard goes through here: the token from session storage, the
 * reachability banner (a failed connection or a gateway error marks the API unreachable,
 * any answer marks it reachable) and problem+json turned into an ApiError.
 */
export async function api<T>(path: string, req: Request = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const t = token.get();
  if (t) headers.authorization = `Bearer ${t}`;
  if (req.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, {
      method: req.method ?? 'GET',
      headers,
      body: req.body === undefined ? null : JSON.stringify(req.body),
      signal: req.signal ?? null,
      cache: 'no-store',
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    store.unreachable(`cannot reach the API (${(err as Error).message})`);
    throw new ApiError(0, 'UNREACHABLE', 'cannot reach the API');
  }
  if (res.status === 502 || res.status === 503 || res.status === 504) {
    const problem = await res.json().catch(() => undefined);
    if (!problem?.code || problem.code === 'DB_UNREACHABLE') store.unreachable(`the API answers ${res.status}`);
    throw new ApiError(res.status, problem?.code ?? 'UNAVAILABLE', problem?.detail ?? `HTTP ${res.status}`, problem);
  }
  store.reachable();
  if (req.accept?.includes(res.status)) return undefined as T;
  if (!res.ok) {
    const problem = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    if (res.status === 401) store.signedOut(String(problem?.detail ?? 'the token was refused'));
    throw new ApiError(
      res.status,
      String(problem?.code ?? `HTTP_${res.status}`),
      String(problem?.detail ?? problem?.title ?? `HTTP ${res.status}`),
      problem,
    );
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** A query string from the set fields only. */
export function qs(params: Record<string, string | number | boolean | undefined | null>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
}
