import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Endpoints, parseApiUrls } from './endpoints.ts';
import { ClientTls, type ClientTlsFiles, describeTransportError, VERIFY_CODES } from './tls.ts';

export interface ApiClientOptions {
  /** One base URL, a comma-separated list, or an array: tried in order, sticking to one that works. */
  urls: string | readonly string[];
  token?: string | undefined;
  tls?: ClientTlsFiles;
  /** Backoff of a URL after it failed: baseMs doubling up to maxMs (0.5 s to 30 s). */
  backoff?: { baseMs?: number; maxMs?: number };
  /** Told when the client moves from one URL to another. */
  onFailover?: (from: string, to: string, reason: string) => void;
}

export interface ApiRequest {
  /** Request body; a string or Buffer is sent as is, anything else as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Per attempt (default 30 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * May the request be sent again to the next URL when it may have reached the first one?
   * Default: for GET and HEAD only (a POST with an idempotency key may say yes).
   */
  retry?: boolean;
}

export interface ApiResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The base URL that answered. */
  url: string;
}

/** No URL of the list answered: each URL's reason, in the order tried. */
export class ApiUnreachableError extends Error {
  readonly code = 'API_UNREACHABLE';
  readonly attempts: { url: string; reason: string }[];
  constructor(attempts: { url: string; reason: string }[]) {
    super(attempts.map((a) => a.reason).join('; '));
    this.name = 'ApiUnreachableError';
    this.attempts = attempts;
  }
}

/**
 * Errors raised before a byte of the request reached the server: always safe to send
 * elsewhere. A certificate the client refuses is one of them.
 */
const NOT_SENT: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
  'CONNECT_TIMEOUT',
  'EPROTO',
  ...VERIFY_CODES,
]);

class AttemptError extends Error {
  readonly sent: boolean;
  constructor(message: string, sent: boolean) {
    super(message);
    this.sent = sent;
  }
}

/**
 * The HTTP client every consumer of the API uses (DNS servers, edge agents, the CLI): one
 * place for the URL list and its failover, TLS verification against CATCHMENT_API_CA and the
 * client certificate. Built on node:http(s), cheap to load (the CLI's start-up time).
 *
 * A request goes to the URL that worked last; on a connection failure, or a 503 (an instance
 * closing, its database gone), the next URL in the list is tried at once, and the failed one
 * backs off. Answers are otherwise returned as they are, whatever their status.
 */
export class ApiClient {
  readonly endpoints: Endpoints;
  readonly token: string | undefined;
  readonly #tls: ClientTls | undefined;
  readonly #http = new HttpAgent({ keepAlive: true });
  readonly #onFailover: ApiClientOptions['onFailover'];

  constructor(opts: ApiClientOptions) {
    const urls = parseApiUrls(opts.urls);
    this.endpoints = new Endpoints(urls, opts.backoff);
    this.token = opts.token || undefined;
    const tls = opts.tls ?? {};
    if (tls.ca || tls.cert || tls.key || urls.some((u) => u.startsWith('https:'))) this.#tls = new ClientTls(tls);
    this.#onFailover = opts.onFailover;
  }

  /** The base URL in use (the last that worked). */
  get url(): string {
    return this.endpoints.current;
  }

  get urls(): readonly string[] {
    return this.endpoints.urls;
  }

  async request(method: string, path: string, req: ApiRequest = {}): Promise<ApiResponse> {
    const retry = req.retry ?? (method === 'GET' || method === 'HEAD');
    const attempts: { url: string; reason: string }[] = [];
    const order = this.endpoints.order();
    for (const [n, i] of order.entries()) {
      const base = this.endpoints.urls[i] as string;
      req.signal?.throwIfAborted();
      try {
        const res = await this.#once(base, method, path, req);
        if (res.status === 503 && n < order.length - 1) {
          // An instance that is closing, or cut off from the database: another may do it.
          this.endpoints.failed(i);
          attempts.push({ url: base, reason: `${base} answered 503` });
          this.#told(base, order[n + 1], 'answered 503');
          continue;
        }
        this.endpoints.succeeded(i);
        return res;
      } catch (err) {
        if (req.signal?.aborted) throw req.signal.reason ?? err;
        const e = err as AttemptError;
        this.endpoints.failed(i);
        attempts.push({ url: base, reason: e.message });
        if (e.sent && !retry) break;
        if (n < order.length - 1) this.#told(base, order[n + 1], e.message);
      }
    }
    throw new ApiUnreachableError(attempts);
  }

  /** A JSON request: the parsed body (or the text when it is not JSON). */
  async json<T = unknown>(method: string, path: string, req: ApiRequest = {}): Promise<ApiResponse & { body: T }> {
    const res = await this.request(method, path, req);
    let body: unknown = res.text;
    if (res.text && /json/.test(String(res.headers['content-type'] ?? ''))) {
      try {
        body = JSON.parse(res.text);
      } catch {}
    }
    return { ...res, body: body as T };
  }

  close(): void {
    this.#http.destroy();
    this.#tls?.close();
  }

  #told(from: string, next: number | undefined, reason: string): void {
    const to = next === undefined ? undefined : this.endpoints.urls[next];
    if (to) this.#onFailover?.(from, to, reason);
  }

  #once(base: string, method: string, path: string, req: ApiRequest): Promise<ApiResponse> {
    const url = new URL(path.replace(/^\/+/, ''), `${base}/`);
    const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
    if (this.token && !Object.keys(headers).some((h) => h.toLowerCase() === 'authorization'))
      headers.authorization = `Bearer ${this.token}`;
    let payload: string | Buffer | undefined;
    if (req.body !== undefined) {
      payload = typeof req.body === 'string' || Buffer.isBuffer(req.body) ? req.body : JSON.stringify(req.body);
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
        headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    const https = url.protocol === 'https:';
    // node:https (with tls and crypto, about 18 ms to load) only for an https URL: the CLI's
    // commands against a local API start without it.
    const send = https ? process.getBuiltinModule('node:https').request : httpRequest;
    const agent = https ? this.#tls?.agent() : this.#http;
    const timeoutMs = req.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      let connected = false;
      const r = send(url, { method, headers, agent, ...(req.signal ? { signal: req.signal } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => fail(err));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
            url: base,
          });
        });
      });
      const fail = (err: unknown) => {
        clearTimeout(timer);
        const code = (err as NodeJS.ErrnoException).code ?? '';
        reject(new AttemptError(describeTransportError(err, base), connected && !NOT_SENT.has(code)));
      };
      const timer = setTimeout(() => {
        const err = Object.assign(new Error(`no answer in ${Math.round(timeoutMs / 1000)} s`), {
          code: connected ? 'TIMEOUT' : 'CONNECT_TIMEOUT',
        });
        r.destroy(err);
      }, timeoutMs);
      r.on('socket', (s) => {
        // A reused keep-alive socket is connected already (and never emits connect again).
        if (!s.connecting) {
          connected = true;
          return;
        }
        s.once(https ? 'secureConnect' : 'connect', () => {
          connected = true;
        });
      });
      r.on('error', fail);
      if (payload !== undefined) r.write(payload);
      r.end();
    });
  }
}

/** The client settings of a consumer from its environment. */
export function apiClientEnv(env: NodeJS.ProcessEnv = process.env): Omit<ApiClientOptions, 'urls'> & {
  urls: string | undefined;
} {
  return {
    urls: env.CATCHMENT_API_URL || undefined,
    token: env.CATCHMENT_API_TOKEN || undefined,
    tls: {
      ca: env.CATCHMENT_API_CA || undefined,
      cert: env.CATCHMENT_API_CLIENT_CERT || undefined,
      key: env.CATCHMENT_API_CLIENT_KEY || undefined,
    },
  };
}
