import { createHash } from 'node:crypto';
import { CatchmentError, canonicalJson } from '@catchment/core';
import { type Db, objectRevision } from '@catchment/db';
import type { FastifyRequest } from 'fastify';

/**
 * A strong ETag from the object's revision (the last audited write, which only grows) and its
 * representation: a write that restores earlier content still gets a new ETag, so a client
 * holding the old one loses with 412 (issue 14, defect 18).
 */
export function etagOf(representation: unknown, revision: number): string {
  const hash = createHash('sha256').update(`${revision}\n`).update(canonicalJson(representation));
  return `"${hash.digest('base64url').slice(0, 22)}"`;
}

/** The ETag of an object as stored now; call it inside the writing transaction after a write. */
export async function currentEtag(db: Db, objectType: string, objectId: string, representation: unknown) {
  return etagOf(representation, await objectRevision(db, objectType, objectId));
}

/** The entity tags a header lists. */
function listedTags(header: string): string[] {
  return header.split(',').map((s) => s.trim());
}

/** If-None-Match uses the weak comparison (RFC 9110 §13.1.2): `W/"x"` matches `"x"`. */
export function noneMatch(req: FastifyRequest, etag: string): boolean {
  const header = req.headers['if-none-match'];
  if (header === undefined) return false;
  const tags = listedTags(header).map((t) => t.replace(/^W\//, ''));
  return tags.includes('*') || tags.includes(etag);
}

/**
 * If-Match against the object as stored, read inside the writing transaction (with the row
 * locked), so two writers holding the same ETag cannot both win.
 */
export async function checkIfMatch(
  req: FastifyRequest,
  db: Db,
  objectType: string,
  objectId: string,
  current: unknown,
): Promise<void> {
  const header = req.headers['if-match'];
  if (header === undefined) return;
  // The strong comparison (RFC 9110 §13.1.1): a weak tag `W/"x"` never matches.
  const wanted = listedTags(header);
  if (wanted.includes('*')) return;
  const actual = await currentEtag(db, objectType, objectId, current);
  if (!wanted.includes(actual)) {
    throw new CatchmentError('PRECONDITION_FAILED', 'the object changed since it was read (If-Match does not match)', {
      details: { etag: actual },
    });
  }
}
