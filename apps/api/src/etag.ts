import { createHash } from 'node:crypto';
import { CatchmentError, canonicalJson } from '@catchment/core';
import type { FastifyRequest } from 'fastify';

/** A strong ETag from the representation itself: any change to the object changes it. */
export function etagOf(representation: unknown): string {
  return `"${createHash('sha256').update(canonicalJson(representation)).digest('base64url').slice(0, 22)}"`;
}

/**
 * If-Match against the current representation, read inside the writing transaction
 * (with the row locked), so two writers holding the same ETag cannot both win.
 */
export function checkIfMatch(req: FastifyRequest, current: unknown): void {
  const header = req.headers['if-match'];
  if (header === undefined) return;
  const wanted = header.split(',').map((s) => s.trim().replace(/^W\//, ''));
  if (wanted.includes('*')) return;
  const actual = etagOf(current);
  if (!wanted.includes(actual)) {
    throw new CatchmentError('PRECONDITION_FAILED', 'the object changed since it was read (If-Match does not match)', {
      details: { etag: actual },
    });
  }
}
