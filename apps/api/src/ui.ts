import { CatchmentError } from '@catchment/core';
import { UI_DIST_DIR, uiBuilt } from '@catchment/ui';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** Only our own files: no CDN, no inline script; the data comes from this API with the token. */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * The operator's dashboard (packages/ui's built folder) under /ui. The files are public,
 * like a login page: every piece of data the page shows comes from /v1 with the token the
 * operator typed, under the same roles as any client.
 */
export async function registerUi(app: FastifyInstance, dir = UI_DIST_DIR): Promise<void> {
  // The routes are declared here with their access (the route list and the auth hook read
  // it); @fastify/static only sends the files (no routes of its own: serve false).
  const route = { config: { access: 'public' as const }, schema: { hide: true } };
  await app.register(async (scope) => {
    scope.get('/ui', route, (_req, reply) => reply.redirect('/ui/', 301));
    if (!uiBuilt() && dir === UI_DIST_DIR) {
      scope.get('/ui/*', route, async () => {
        throw new CatchmentError(
          'UI_NOT_BUILT',
          'the dashboard is not built: run scripts/setup.sh (or node packages/ui/src/build.ts)',
        );
      });
      return;
    }
    await scope.register(fastifyStatic, {
      root: dir,
      serve: false,
      cacheControl: false,
      setHeaders: (reply, path) => {
        reply.header('content-security-policy', CSP);
        reply.header('x-content-type-options', 'nosniff');
        reply.header('referrer-policy', 'no-referrer');
        // index.html names the hashed bundle, so it must be revalidated; the bundle may be cached.
        reply.header('cache-control', path.endsWith('.html') ? 'no-cache' : 'public, max-age=86400');
      },
    });
    scope.get('/ui/*', route, (req, reply) => reply.sendFile((req.params as { '*': string })['*'] || 'index.html'));
  });
}
