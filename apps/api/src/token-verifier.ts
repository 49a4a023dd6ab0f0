import { createHash } from 'node:crypto';
import { CatchmentError } from '@catchment/core';
import { type Db, isDatabaseUnreachable, schema, withDeadline } from '@catchment/db';
import { eq } from 'drizzle-orm';
import { type Principal, parseToken, verifySecret } from './tokens.ts';
import { DEFAULT_VERIFICATION_LIMIT, VerificationGate, type VerificationLimitOptions } from './verification-limit.ts';

/** What became of a secret that needed a scrypt check. */
export type VerificationOutcome = 'valid' | 'invalid' | 'busy';

export interface TokenVerifierOptions {
  /** How long a verified secret skips scrypt (the row is still read on every request). */
  freshMs?: number;
  /** How long after the database last confirmed a token it is still accepted while the database is unreachable. */
  staleIfErrorMs?: number;
  /** Most tokens remembered (least recently used forgotten first). */
  maxEntries?: number;
  /** How many scrypt checks run at once and may wait (default one, 64 waiting). */
  limit?: VerificationLimitOptions;
  /** Called once per scrypt check run (valid, invalid) or refused (busy): the metric. */
  onVerification?: (outcome: VerificationOutcome) => void;
}

interface Entry {
  /** sha256 of the presented text: the secret itself is never kept. */
  digest: string;
  hash: string;
  principal: Principal;
  expiresAt: number | null;
  verifiedAt: number;
  confirmedAt: number;
}

/** How long a token read may take before a remembered verification is used instead. */
const FALLBACK_AFTER_MS = 1000;

const digestOf = (text: string) => createHash('sha256').update(text).digest('base64url');

/**
 * Checks presented tokens. The row is read on every request, so revocation and expiry take
 * effect at once on every API replica; the scrypt check of the secret is remembered for
 * `freshMs` (bounded, forgotten on revoke in this process), so only the first request of a
 * token pays for it. While the database is unreachable, a token it confirmed within
 * `staleIfErrorMs` is still accepted from memory: DNS servers and agents keep fetching
 * snapshots through an outage. Anything else then throws the database error (503).
 *
 * Concurrent first uses of one token share a single scrypt check, and all checks pass through
 * a bounded gate (issue 14, defect 8), so no flood of secrets costs more than one core.
 */
export class TokenVerifier {
  readonly #db: Db;
  readonly #freshMs: number;
  readonly #staleMs: number;
  readonly #max: number;
  readonly #entries = new Map<string, Entry>();
  /** Checks in flight by token, hash and presented digest; bounded by the gate. */
  readonly #inflight = new Map<string, Promise<boolean>>();
  readonly #observe: (outcome: VerificationOutcome) => void;
  /** The scrypt gate (tests hold a turn to fill it). */
  readonly gate: VerificationGate;

  constructor(db: Db, opts: TokenVerifierOptions = {}) {
    this.#db = db;
    this.#freshMs = opts.freshMs ?? 10 * 60_000;
    this.#staleMs = opts.staleIfErrorMs ?? 24 * 3_600_000;
    this.#max = opts.maxEntries ?? 10_000;
    this.gate = new VerificationGate(opts.limit ?? DEFAULT_VERIFICATION_LIMIT);
    this.#observe = opts.onVerification ?? (() => {});
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Forgets a token (revoked or deleted in this process). */
  forget(tokenId: number): void {
    for (const [lookup, e] of this.#entries) if (e.principal.tokenId === tokenId) this.#entries.delete(lookup);
  }

  /**
   * `admit` is called before this request starts a scrypt check of its own (not when the
   * verification is remembered, nor when it joins a check in flight); it throws to refuse.
   */
  async authenticate(text: string, admit: () => void = () => {}): Promise<Principal | undefined> {
    const parsed = parseToken(text);
    if (!parsed) return undefined;
    const now = Date.now();
    const digest = digestOf(text);
    const known = this.#entries.get(parsed.lookup);
    let row: typeof schema.apiTokens.$inferSelect | undefined;
    const query = this.#db.select().from(schema.apiTokens).where(eq(schema.apiTokens.lookup, parsed.lookup));
    try {
      // With a remembered verification to fall back on, a database that hangs counts as down.
      [row] = await (known?.digest === digest ? withDeadline(query, FALLBACK_AFTER_MS) : query);
    } catch (err) {
      if (
        isDatabaseUnreachable(err) &&
        known?.digest === digest &&
        now - known.confirmedAt < this.#staleMs &&
        (known.expiresAt === null || known.expiresAt > now)
      ) {
        return known.principal;
      }
      throw err;
    }
    if (!row || row.revokedAt || (row.expiresAt && row.expiresAt.getTime() <= now)) {
      this.#entries.delete(parsed.lookup);
      return undefined;
    }
    const principal: Principal = { tokenId: row.id, name: row.name, role: row.role, scope: row.scope };
    const expiresAt = row.expiresAt?.getTime() ?? null;
    // Read again: another request of this token may have finished its check while the row was read.
    const remembered = this.#entries.get(parsed.lookup);
    if (
      remembered &&
      remembered.digest === digest &&
      remembered.hash === row.hash &&
      now - remembered.verifiedAt < this.#freshMs
    ) {
      this.#remember(parsed.lookup, { ...remembered, principal, expiresAt, confirmedAt: now });
      return principal;
    }
    if (!(await this.#verify(row.id, row.hash, digest, parsed.secret, admit))) return undefined;
    this.#remember(parsed.lookup, { digest, hash: row.hash, principal, expiresAt, verifiedAt: now, confirmedAt: now });
    return principal;
  }

  /** One scrypt check per token, hash and presented secret at a time; the others await it. */
  #verify(tokenId: number, hash: string, digest: string, secret: string, admit: () => void): Promise<boolean> {
    const key = `${tokenId}\n${hash}\n${digest}`;
    let check = this.#inflight.get(key);
    if (!check) {
      admit();
      check = this.gate
        .run(() => verifySecret(secret, hash))
        .then(
          (ok) => {
            this.#observe(ok ? 'valid' : 'invalid');
            return ok;
          },
          (err: unknown) => {
            if (err instanceof CatchmentError && err.code === 'AUTH_BUSY') this.#observe('busy');
            throw err;
          },
        )
        .finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, check);
    }
    return check;
  }

  #remember(lookup: string, entry: Entry): void {
    this.#entries.delete(lookup); // re-inserted last: the Map's order is the recency order
    this.#entries.set(lookup, entry);
    while (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }
}
