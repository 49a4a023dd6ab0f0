/**
 * Whether an error means "the database cannot be reached" (as opposed to a query the database
 * refused): connection refused / reset / ended, PostgreSQL's connection-exception and
 * shutdown classes, a read-only server where a primary was wanted, a closed embedded database. Looks through `cause` chains (drizzle wraps
 * driver errors). Routes answer 503 DB_UNREACHABLE for these, and callers may fall back to
 * what they hold in memory.
 */
export function isDatabaseUnreachable(err: unknown): boolean {
  let e: unknown = err;
  for (let i = 0; i < 6 && e; i++) {
    const x = e as { code?: unknown; message?: unknown; errors?: unknown };
    const code = typeof x.code === 'string' ? x.code : '';
    if (NODE_CODES.has(code) || POSTGRES_JS_CODES.has(code)) return true;
    // SQLSTATE class 08 (connection exception), 57P01-57P03 (shutdown, cannot connect now), 53300 (too many connections).
    if (/^08[0-9A-Z]{3}$/.test(code) || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300')
      return true;
    // 25006 read_only_sql_transaction: the pool holds a standby (a Patroni failover under way, the
    // old primary gone and the new one not promoted yet). No primary is reachable: retry later.
    if (code === '25006') return true;
    if (typeof x.message === 'string' && /PGlite is closed/i.test(x.message)) return true;
    // AggregateError of connection attempts (IPv4 and IPv6 both refused).
    if (Array.isArray(x.errors) && x.errors.some((inner) => isDatabaseUnreachable(inner))) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

const NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
// postgres.js's own codes for a connection that could not be made or was lost.
const POSTGRES_JS_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'DB_DEADLINE',
]);

/**
 * The query, or a DB_DEADLINE error (counted as unreachable) after `ms`. For callers that
 * can answer from memory: while the server is down, postgres.js queues queries behind its
 * reconnect backoff (up to 20 s), and a snapshot fetch must not wait for that.
 */
export function withDeadline<T>(query: PromiseLike<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error(`the database did not answer within ${ms} ms`), { code: 'DB_DEADLINE' })),
      ms,
    );
  });
  const run = Promise.resolve(query);
  run.catch(() => undefined); // a late failure after the deadline is nobody's to handle
  return Promise.race([run, expired]).finally(() => clearTimeout(timer));
}
