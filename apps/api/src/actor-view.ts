import { type Db, schema } from '@catchment/db';
import { inArray } from 'drizzle-orm';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { actorOf } from './auth.ts';

/** An actor that names a token (`token:<name>`), as actorOf writes it. */
const TOKEN_ACTOR = /^token:([a-z0-9][a-z0-9_.-]{0,62})$/;
/** How non-admins name a token actor: by id, which says who without telling the token's name. */
const BY_ID = /^token:#(\d{1,10})$/;

/** Token names are token data: admins read them, everyone reads the actor of their own token. */
function seesNames(req: FastifyRequest): boolean {
  return req.principal?.role === 'admin';
}

/** Every string in a JSON value (bounded: a response body is already in memory). */
function collect(value: unknown, out: Set<string>, depth = 0): void {
  if (depth > 64) return;
  if (typeof value === 'string') {
    if (TOKEN_ACTOR.test(value)) out.add(value);
  } else if (Array.isArray(value)) {
    for (const v of value) collect(v, out, depth + 1);
  } else if (value && typeof value === 'object') {
    for (const v of Object.values(value)) collect(v, out, depth + 1);
  }
}

function replace(value: unknown, names: Map<string, string>, depth = 0): unknown {
  if (depth > 64) return value;
  if (typeof value === 'string') return names.get(value) ?? value;
  if (Array.isArray(value)) return value.map((v) => replace(v, names, depth + 1));
  if (value && typeof value === 'object') {
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return value; // Date and such
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replace(v, names, depth + 1)]));
  }
  return value;
}

/**
 * Viewers and operators read everything except tokens (README), and a token's name is part of
 * the token: in what they read (audit entries, actions, runs, and the before/after inside them)
 * `token:<name>` becomes `token:#<id>`, which still tells one actor from another and which an
 * admin can look up. The caller's own token keeps its name. One hook, so every route follows it.
 */
export function registerActorView(app: FastifyInstance, db: Db): void {
  app.addHook('preSerialization', async (req, _reply, payload) => {
    if (seesNames(req) || payload === null || typeof payload !== 'object') return payload;
    const found = new Set<string>();
    collect(payload, found);
    found.delete(actorOf(req));
    if (found.size === 0) return payload;
    const rows = await db
      .select({ id: schema.apiTokens.id, name: schema.apiTokens.name })
      .from(schema.apiTokens)
      .where(
        inArray(
          schema.apiTokens.name,
          [...found].map((a) => a.slice('token:'.length)),
        ),
      );
    const ids = new Map(rows.map((r) => [r.name, r.id]));
    // A name no token has any more (or never had) is hidden too.
    const names = new Map([...found].map((a) => [a, `token:#${ids.get(a.slice('token:'.length)) ?? '?'}`]));
    return replace(payload, names);
  });
}

/**
 * The stored actor an `actor` filter means for this reader: admins filter by name; others by
 * `token:#<id>` (a name from them matches nothing, so it cannot tell whether such a token exists).
 */
export async function actorFilter(db: Db, req: FastifyRequest, actor: string): Promise<string | null> {
  if (seesNames(req)) return actor;
  const byId = BY_ID.exec(actor);
  if (byId) {
    const [row] = await db
      .select({ name: schema.apiTokens.name })
      .from(schema.apiTokens)
      .where(inArray(schema.apiTokens.id, [Number(byId[1])]));
    return row ? `token:${row.name}` : null;
  }
  if (TOKEN_ACTOR.test(actor) && actor !== actorOf(req)) return null;
  return actor;
}
