import type { Database, Db } from '@catchment/db';
import { type DbMode, freshDatabase } from './databases.ts';

export type { DbMode };

/** The roles the harness makes one token for each. */
export type Role = 'viewer' | 'operator' | 'admin' | 'agent';

/**
 * @catchment/api's startApi and createToken, handed in by the API's tests (testkit imports no
 * app); `A` is what startApi returns, so tests keep its full type.
 */
export interface ApiParts<A, O> {
  startApi(
    opts: O & { database: Database; port: number; authFailureLimit: { max: number; timeWindowMs: number } },
  ): Promise<A>;
  createToken(db: Db, opts: { name: string; role: Role }): Promise<{ token: string }>;
}

export interface Reply<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface TestApi<A = { url: string; close(): Promise<void> }> {
  api: A;
  database: Database;
  url: string;
  tokens: Record<Role, string>;
  // biome-ignore lint/suspicious/noExplicitAny: test bodies are read loosely
  call<T = any>(
    method: string,
    path: string,
    opts?: { token?: string | null; body?: unknown; headers?: Record<string, string>; raw?: string },
  ): Promise<Reply<T>>;
  close(): Promise<void>;
}

/** A real API listening on 127.0.0.1 over a fresh database, with one token per role. Call close(). */
export async function startApiHarness<A extends { url: string; close(): Promise<void> }, O extends object>(
  mode: DbMode,
  parts: ApiParts<A, O>,
  opts: Partial<O> = {},
): Promise<TestApi<A>> {
  const { startApi, createToken } = parts;
  const database = await freshDatabase(mode);
  const tokens = {} as Record<Role, string>;
  for (const role of ['viewer', 'operator', 'admin', 'agent'] as const) {
    tokens[role] = (await createToken(database.db, { name: `test-${role}`, role })).token;
  }
  // Suites that probe every route without a token would trip the failed-authentication limit;
  // the test of that limit passes its own.
  const api = await startApi({
    database,
    port: 0,
    authFailureLimit: { max: 1e9, timeWindowMs: 60_000 },
    ...opts,
  } as O & { database: Database; port: number; authFailureLimit: { max: number; timeWindowMs: number } });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await api.close();
    await database.close();
  };
  return {
    api,
    database,
    url: api.url,
    tokens,
    async call(method, path, o = {}) {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      const token = o.token === undefined ? tokens.admin : o.token;
      if (token) headers.authorization = `Bearer ${token}`;
      let body: string | undefined;
      if (o.raw !== undefined) {
        body = o.raw;
        headers['content-type'] ??= 'application/json';
      } else if (o.body !== undefined) {
        body = JSON.stringify(o.body);
        headers['content-type'] = 'application/json';
      }
      const res = await fetch(`${api.url}${path}`, { method, headers, body });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {}
      return { status: res.status, headers: res.headers, body: parsed as never, text };
    },
    close,
  };
}

export const EDGE_FRA = {
  name: 'fra',
  location: { lat: 50.03, lon: 8.57, country: 'DE', continent: 'EU' },
  capacity: { rps: 100000 },
  dsrAddress: '198.19.100.11',
};

/** Creates the fixture world through the API (every POST must succeed). */
export async function buildWorld(t: TestApi): Promise<void> {
  const { WORLD } = await import('./api-world.ts');
  for (const [path, body] of WORLD) {
    const r = await t.call('POST', path, { body });
    if (r.status !== 201) throw new Error(`POST ${path} ${JSON.stringify(body)} → ${r.status} ${r.text}`);
  }
}

/** Everything a rejected request must leave untouched. */
export async function dbFingerprint(t: TestApi): Promise<string> {
  const { exportConfig, rowsOf } = await import('@catchment/db');
  const { sql } = await import('drizzle-orm');
  const counts = rowsOf(
    await t.database.db.execute(
      sql`select (select count(*) from audit_log)::int a, (select count(*) from actions)::int b,
          (select count(*) from snapshots)::int c, (select count(*) from records)::int d,
          (select count(*) from api_tokens)::int e, (select count(*) from signals)::int f`,
    ),
  );
  return JSON.stringify({ config: await exportConfig(t.database.db), counts });
}

/**
 * A GET from another loopback address (127.0.0.x), so the API sees another client address:
 * per-client limits are tested without a second machine.
 */
export async function getFrom<T = unknown>(
  url: string,
  localAddress: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: T; text: string }> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', localAddress, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let body: unknown = text;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {}
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: body as T, text });
      });
    });
    req.on('error', reject);
    req.setTimeout(60_000, () => req.destroy(new Error(`GET ${url} from ${localAddress}: no answer in 60 s`)));
    req.end();
  });
}

/**
 * Edge agents' reports through the API, each with its load and an agent's observation
 * (world.ts agentObservation): one established session exporting every prefix the edge
 * announces in the current snapshot. `exported` replaces that list for the edges it names.
 */
export async function reportAgents(
  t: TestApi,
  loads: Record<string, number | null>,
  exported: Record<string, string[]> = {},
): Promise<void> {
  const { agentObservation } = await import('./world.ts');
  const snap = await t.call<{ body: { prefixes: { cidr: string; announcers: string[] }[] } }>('GET', '/v1/snapshot');
  for (const [edge, rps] of Object.entries(loads)) {
    const mine = snap.body.body.prefixes.filter((p) => p.announcers.includes(edge)).map((p) => p.cidr);
    const observed = agentObservation({ exported: exported[edge] ?? mine });
    const r = await t.call('POST', '/v1/reports', {
      token: t.tokens.agent,
      body: {
        consumer: edge,
        kind: 'edge',
        snapshotVersion: null,
        healthy: observed.healthy,
        ...(rps === null ? {} : { load: { rps } }),
        details: { observed },
      },
    });
    if (r.status !== 202) throw new Error(`report for ${edge}: ${r.status} ${r.text}`);
  }
}
