import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { CatchmentError } from '@catchment/core';
import { type Db, recordAudit, schema } from '@catchment/db';
import { eq } from 'drizzle-orm';

export const ROLES = ['viewer', 'operator', 'admin', 'agent'] as const;
export type Role = (typeof ROLES)[number];

/** scrypt parameters (OWASP's minimum: N=2^17 with r=8 is costly; 2^15 keeps a cold check ~50 ms). */
const N = 32768;
const R = 8;
const P = 1;
const KEYLEN = 32;
const MAXMEM = 64 * 1024 * 1024;

function scryptAsync(secret: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, KEYLEN, { N: n, r, p, maxmem: MAXMEM }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** `scrypt$N$r$p$salt$hash` (base64url), self-describing so parameters can grow later. */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(secret, salt, N, R, P);
  return ['scrypt', N, R, P, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [alg, n, r, p, salt, hash] = stored.split('$');
  if (alg !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await scryptAsync(secret, Buffer.from(salt, 'base64url'), Number(n), Number(r), Number(p));
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A token is `ct_<lookup>.<secret>`: the lookup finds the row, the secret is checked against the hash. */
export function parseToken(text: string): { lookup: string; secret: string } | undefined {
  const m = /^ct_([0-9a-f]{16})\.([A-Za-z0-9_-]{43})$/.exec(text);
  return m ? { lookup: m[1] as string, secret: m[2] as string } : undefined;
}

export interface TokenInfo {
  id: number;
  name: string;
  role: Role;
  scope: string | null;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export function tokenInfo(row: typeof schema.apiTokens.$inferSelect): TokenInfo {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    scope: row.scope,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
  };
}

export interface CreateTokenOptions {
  name: string;
  role: Role;
  /** For agent tokens: the consumer (edge or DNS server) it reports for; null = any. */
  scope?: string | null;
  expiresAt?: Date | null;
  /** When given (e.g. `cli:root`), the creation is audited in the same transaction. */
  actor?: string;
}

/**
 * Creates a token and returns its text: the only moment the secret exists in clear.
 * `db` may be a transaction so the caller can audit in the same one. Used by the API
 * (POST /v1/tokens) and by `catchment token create`.
 */
export async function createToken(db: Db, opts: CreateTokenOptions): Promise<{ token: string; info: TokenInfo }> {
  const { actor } = opts;
  if (actor !== undefined) {
    return db.transaction(async (tx) => {
      const made = await createToken(tx as unknown as Db, { ...opts, actor: undefined });
      await recordAudit(tx, { actor, action: 'create', objectType: 'token', objectId: opts.name, after: made.info });
      return made;
    });
  }
  if (!(ROLES as readonly string[]).includes(opts.role)) {
    throw new CatchmentError('VALIDATION_FAILED', `role must be one of ${ROLES.join(', ')}`, {
      errors: [{ path: '/role', message: `unknown role "${opts.role}"` }],
    });
  }
  if (!/^[a-z0-9][a-z0-9_.-]{0,62}$/.test(opts.name)) {
    throw new CatchmentError('VALIDATION_FAILED', 'token name must be a lower-case identifier', {
      errors: [{ path: '/name', message: 'must match ^[a-z0-9][a-z0-9_.-]{0,62}$' }],
    });
  }
  const lookup = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const hash = await hashSecret(secret);
  const existing = await db
    .select({ id: schema.apiTokens.id })
    .from(schema.apiTokens)
    .where(eq(schema.apiTokens.name, opts.name));
  if (existing.length > 0) throw new CatchmentError('NAME_TAKEN', `a token named "${opts.name}" exists`);
  const [row] = await db
    .insert(schema.apiTokens)
    .values({
      name: opts.name,
      role: opts.role,
      lookup,
      hash,
      scope: opts.scope ?? null,
      expiresAt: opts.expiresAt ?? null,
    })
    .returning();
  if (!row) throw new CatchmentError('INTERNAL', 'token insert returned nothing');
  return { token: `ct_${lookup}.${secret}`, info: tokenInfo(row) };
}

export interface Principal {
  tokenId: number;
  name: string;
  role: Role;
  scope: string | null;
}
