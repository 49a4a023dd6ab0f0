import { VERSION } from '@catchment/core';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

/** Longest If-Match / If-None-Match accepted as documented: a longer one never names our ETag. */
const ETAG_HEADER_MAX = 1024;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The handler honours If-Match (412 when the object changed): documented in the OpenAPI document. */
    ifMatch?: boolean;
  }
}

interface RouteFacts {
  ifMatch: boolean;
  rateLimited: boolean;
}

type Json = Record<string, unknown>;
type Operation = {
  operationId?: string;
  parameters?: { name: string; in: string }[];
  responses?: Record<string, Json>;
};

const PROBLEM = { $ref: '#/components/schemas/Problem' };

/** `:name` → `{name}`, as OpenAPI writes path parameters. */
export function openapiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

const pascal = (s: string) =>
  s
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]?.toUpperCase() + w.slice(1))
    .join('');

/**
 * The operationId of a route that does not name its own: the method and the path, with
 * parameters as By<Name> (GET /v1/edges/:name/drain → getEdgesByNameDrain). Unique because
 * method and path are, and stable as long as the route is.
 */
export function operationIdFor(method: string, url: string): string {
  const parts = url
    .split('/')
    .filter((s) => s !== '' && s !== 'v1')
    .map((s) => (s.startsWith(':') ? `By${pascal(s.slice(1))}` : pascal(s)));
  return method.toLowerCase() + (parts.join('') || 'Root');
}

/**
 * OpenAPI 3.1 document (/docs/json) and Swagger UI (/docs). Every operation gets an
 * operationId, the conditional-request headers and responses it honours (ETag and 304 for
 * reads that answer 304, If-Match and 412 for writes that check it) and 429 with
 * Retry-After where the rate limit applies, from the routes' own options.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  const facts = new Map<string, RouteFacts>();
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) {
      facts.set(`${method.toLowerCase()} ${openapiPath(r.url)}`, {
        ifMatch: r.config?.ifMatch === true,
        rateLimited: (r.config as { rateLimit?: unknown } | undefined)?.rateLimit !== false,
      });
    }
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Catchment API',
        version: VERSION,
        description:
          'Operator REST API of Catchment: configuration, operator actions, alert intake and snapshot distribution. ' +
          'Errors are RFC 9457 problem details with a stable `code`. Reads of objects carry an `ETag`; ' +
          'writes honour `If-Match` (412 when the object changed since it was read). ' +
          'Requests are rate limited per token (429 with `Retry-After`).',
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      },
      servers: [
        {
          url: '{scheme}://{host}',
          description: 'a Catchment API instance (several may serve one database)',
          variables: {
            scheme: { default: 'http', enum: ['http', 'https'] },
            host: { default: '127.0.0.1:8080', description: 'host:port of the instance' },
          },
        },
      ],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'ct_<lookup>.<secret> token' },
          basic: { type: 'http', scheme: 'basic', description: 'any user name, the token as password' },
        },
        headers: {
          ETag: { description: 'the version of the representation', schema: { type: 'string' } },
          RetryAfter: {
            description: 'seconds until the rate limit admits requests again',
            schema: { type: 'integer' },
          },
        },
      },
      security: [{ bearer: [] }, { basic: [] }],
    },
    transformObject: (doc) => {
      const openapi = (doc as { openapiObject?: Json }).openapiObject ?? {};
      decorate(openapi, facts);
      return openapi;
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}

function decorate(doc: Json, facts: Map<string, RouteFacts>): void {
  const components = (doc.components ?? {}) as { schemas?: Record<string, Json> };
  const paths = (doc.paths ?? {}) as Record<string, Record<string, Operation>>;
  const problemContent = (description: string) => ({
    description,
    content: { 'application/problem+json': { schema: components.schemas?.Problem ? PROBLEM : {} } },
  });
  const tags = new Set<string>();
  for (const [path, item] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (typeof op !== 'object' || op === null || !('responses' in op)) continue;
      op.operationId ??= operationIdFor(method, path.replace(/\{([^}]+)\}/g, ':$1'));
      for (const t of (op as { tags?: string[] }).tags ?? []) tags.add(t);
      const f = facts.get(`${method} ${path}`);
      op.responses ??= {};
      op.parameters ??= [];
      const responses = op.responses;
      const params = op.parameters;
      const hasParam = (name: string) => params.some((p) => p.in === 'header' && p.name.toLowerCase() === name);
      if (responses['304']) {
        responses['304'] = { description: 'not modified: the version named by If-None-Match is current' };
        (responses['304'] as Json).headers = { ETag: { $ref: '#/components/headers/ETag' } };
        if (!hasParam('if-none-match')) {
          params.push({
            name: 'If-None-Match',
            in: 'header',
            required: false,
            description: 'an ETag of this resource: 304 while it is still current',
            schema: { type: 'string', maxLength: ETAG_HEADER_MAX },
          } as never);
        }
      }
      if (responses['304'] || f?.ifMatch) {
        const ok = (responses['200'] ?? responses['201']) as Json | undefined;
        if (ok) ok.headers = { ...(ok.headers as Json | undefined), ETag: { $ref: '#/components/headers/ETag' } };
      }
      if (f?.ifMatch) {
        if (!hasParam('if-match')) {
          params.push({
            name: 'If-Match',
            in: 'header',
            required: false,
            description: 'the ETag read before: the write fails with 412 if the object changed since',
            schema: { type: 'string', maxLength: ETAG_HEADER_MAX },
          } as never);
        }
        responses['412'] = problemContent(
          'precondition failed (PRECONDITION_FAILED): the object changed since it was read',
        );
      }
      if (f?.rateLimited !== false) {
        responses['429'] = {
          ...problemContent('rate limited (RATE_LIMITED): too many requests for this token'),
          headers: { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } },
        };
      }
      if (params.length === 0) delete op.parameters;
    }
  }
  // Every tag used, declared once (generated clients group operations by tag).
  const declared = new Set(((doc.tags ?? []) as { name: string }[]).map((t) => t.name));
  doc.tags = [
    ...((doc.tags ?? []) as Json[]),
    ...[...tags].filter((t) => !declared.has(t)).map((name) => ({ name, description: `${name} operations` })),
  ];
}
