/** A list of API base URLs from `CATCHMENT_API_URL` (comma-separated) or an array. */
export function parseApiUrls(value: string | readonly string[]): string[] {
  const parts = (typeof value === 'string' ? value.split(',') : value).map((s) => s.trim()).filter(Boolean);
  if (parts.length === 0)
    throw new ApiConfigError('no API URL given (CATCHMENT_API_URL: one URL or a comma-separated list)');
  return parts.map((raw) => {
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      throw new ApiConfigError(`API URL "${raw}" is not a URL (expected http(s)://host:port)`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      throw new ApiConfigError(`API URL "${raw}" must start with http:// or https://`);
    return u.toString().replace(/\/+$/, '');
  });
}

/** A setting of the client that cannot work (a URL, a certificate file). */
export class ApiConfigError extends Error {
  readonly code = 'API_CONFIG_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'ApiConfigError';
  }
}

/**
 * Which URL to try, in list order starting from the one that worked last (sticky), skipping
 * URLs that failed recently while their backoff lasts (0.5 s doubling to 30 s), unless every
 * URL is backing off: then all are tried, in order, so a caller is never told "down" without
 * a try.
 */
export class Endpoints {
  readonly urls: readonly string[];
  #current = 0;
  readonly #failures: number[];
  readonly #retryAt: number[];
  readonly #baseMs: number;
  readonly #maxMs: number;

  constructor(urls: readonly string[], backoff: { baseMs?: number; maxMs?: number } = {}) {
    this.urls = urls;
    this.#failures = urls.map(() => 0);
    this.#retryAt = urls.map(() => 0);
    this.#baseMs = backoff.baseMs ?? 500;
    this.#maxMs = backoff.maxMs ?? 30_000;
  }

  /** The URL that worked last (or the first). */
  get current(): string {
    return this.urls[this.#current] as string;
  }

  /** Indexes to try for one request, in order. */
  order(now = Date.now()): number[] {
    const n = this.urls.length;
    const all = Array.from({ length: n }, (_, i) => (this.#current + i) % n);
    const ready = all.filter((i) => (this.#retryAt[i] as number) <= now);
    return ready.length > 0 ? ready : all;
  }

  succeeded(i: number): void {
    this.#current = i;
    this.#failures[i] = 0;
    this.#retryAt[i] = 0;
  }

  failed(i: number, now = Date.now()): void {
    const f = (this.#failures[i] ?? 0) + 1;
    this.#failures[i] = f;
    this.#retryAt[i] = now + Math.min(this.#maxMs, this.#baseMs * 2 ** (f - 1));
    // The next request starts at the next URL: the one that failed is not sticky.
    if (i === this.#current && this.urls.length > 1) this.#current = (i + 1) % this.urls.length;
  }
}
