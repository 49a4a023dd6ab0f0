import { CatchmentError } from '@catchment/core';
import { type Db, schema } from '@catchment/db';
import { eq } from 'drizzle-orm';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DistributionLimiter } from './distribution-limit.ts';
import { type ApiTlsOptions, checkClientCertificate } from './tls.ts';
import type { TokenVerifier } from './token-verifier.ts';
import type { Principal, Role } from './tokens.ts';

/** Who may call a route. Everything requires a token except routes marked public. */
export type Access = 'public' | readonly Role[];

export const READ: readonly Role[] = ['viewer', 'operator', 'admin'];
export const OPERATE: readonly Role[] = ['operator', 'admin'];
export const ADMIN: readonly Role[] = ['admin'];
/** DNS servers and edge agents read snapshots; people may too. */
export const SNAPSHOT_READ: readonly Role[] = ['viewer', 'operator', 'admin', 'agent'];
export const REPORT: readonly Role[] = ['agent', 'admin'];

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** Bearer, or Basic with the token as password (Alertmanager's http_config, browsers on /docs). */
export function presentedToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const [scheme, value] = header.split(/\s+/, 2);
  if (!scheme || !value) return undefined;
  if (scheme.toLowerCase() === 'bearer') return value;
  if (scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : undefined;
  }
  return undefined;
}

export function actorOf(req: FastifyRequest): string {
  return req.principal ? `token:${req.principal.name}` : 'anonymous';
}

const LAST_USED_EVERY_MS = 60_000;

/** Failed authentications allowed per client address and per token prefix: 20, refilled per minute. */
export const AUTH_FAILURES = { max: 20, timeWindowMs: 60_000 };

export function registerAuth(
  app: FastifyInstance,
  db: Db,
  verifier: TokenVerifier,
  limit: { max: number; timeWindowMs: number } = AUTH_FAILURES,
  tls?: ApiTlsOptions,
): void {
  const lastUsed = new Map<number, number>();
  // The same bounded token buckets as snapshot distribution, counting failures only.
  const failures = new DistributionLimiter(limit);
  app.addHook('onRequest', async (req, reply) => {
    const access = req.routeOptions.config?.access ?? READ;
    if (access === 'public') return;
    const text = presentedToken(req.headers.authorization);
    const prefix = text?.split('.', 1)[0]?.slice(0, 32);
    const byAddress = failures.consumer(`ip:${req.ip}`);
    const byPrefix = prefix ? failures.consumer(`prefix:${prefix}`) : undefined;
    const buckets = byPrefix ? [byAddress, byPrefix] : [byAddress];
    const refuseIfSpent = () => {
      for (const bucket of buckets) {
        if (bucket.tokens < 1) {
          const seconds = Math.max(1, Math.ceil(failures.retryAfterMs(bucket) / 1000));
          reply.header('retry-after', String(seconds));
          throw new CatchmentError(
            'RATE_LIMITED',
            `too many failed authentications from this address or for this token; retry in ${seconds} s`,
          );
        }
      }
    };
    // Checked before any database read or scrypt: a guesser costs one bucket lookup.
    refuseIfSpent();
    // A scrypt check of a secret not verified before takes its failure in advance (given back
    // if the secret is right), so checks in flight count too: concurrent guesses for one prefix
    // or from one address run at most as many checks as the limit allows.
    let reserved = false;
    const admit = () => {
      refuseIfSpent();
      for (const bucket of buckets) failures.take(bucket);
      reserved = true;
    };
    let principal: Principal | undefined;
    try {
      principal = text ? await verifier.authenticate(text, admit) : undefined;
    } catch (err) {
      // Refused before any check ran (the verification gate is full): not a failure.
      if (reserved) for (const bucket of buckets) failures.giveBack(bucket);
      throw err;
    }
    if (!principal) {
      if (!reserved) for (const bucket of buckets) failures.take(bucket);
      reply.header('www-authenticate', 'Bearer realm="catchment", Basic realm="catchment"');
      throw new CatchmentError(
        'UNAUTHORIZED',
        text ? 'the token is invalid, expired or revoked' : 'a token is required',
      );
    }
    if (reserved) for (const bucket of buckets) failures.giveBack(bucket);
    req.principal = principal;
    checkClientCertificate(req, principal, tls);
    if (!access.includes(principal.role)) {
      throw new CatchmentError(
        'FORBIDDEN',
        `role "${principal.role}" may not ${req.method} ${req.routeOptions.url ?? req.url} (needs ${access.join(' or ')})`,
      );
    }
    const now = Date.now();
    if ((lastUsed.get(principal.tokenId) ?? 0) + LAST_USED_EVERY_MS < now) {
      lastUsed.set(principal.tokenId, now);
      // Bookkeeping only: a request never fails (or waits) because it cannot be written.
      db.update(schema.apiTokens)
        .set({ lastUsedAt: new Date(now) })
        .where(eq(schema.apiTokens.id, principal.tokenId))
        .catch((err: unknown) => req.log.warn({ err }, 'cannot record the token as used'));
    }
  });
}
