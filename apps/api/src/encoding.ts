import { isUtf8 } from 'node:buffer';
import { CatchmentError } from '@catchment/core';
import type { FastifyInstance } from 'fastify';

/**
 * Text that is not UTF-8 is refused, never repaired: the JSON parser and the query
 * string parser would otherwise turn invalid bytes into U+FFFD and store them.
 */
export function registerEncodingChecks(app: FastifyInstance): void {
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body: Buffer, done) => {
    if (!isUtf8(body)) return done(new CatchmentError('MALFORMED_JSON', 'the body is not valid UTF-8'));
    if (body.length === 0) return done(new CatchmentError('MALFORMED_JSON', 'the body is empty'));
    try {
      done(null, JSON.parse(body.toString('utf8')));
    } catch (err) {
      done(new CatchmentError('MALFORMED_JSON', `the body is not valid JSON: ${(err as Error).message}`));
    }
  });
  app.addHook('onRequest', async (req) => {
    const q = req.url.indexOf('?');
    if (q < 0) return;
    try {
      decodeURIComponent(req.url.slice(q + 1).replaceAll('+', ' '));
    } catch {
      throw new CatchmentError('INVALID_QUERY', 'the query string is not valid percent-encoded UTF-8');
    }
  });
}
