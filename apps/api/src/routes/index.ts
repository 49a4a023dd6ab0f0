import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';
import { crud } from '../resources/crud.ts';
import { edgeResource } from '../resources/edges.ts';
import { policyResource } from '../resources/policies.ts';
import { prefixResource } from '../resources/prefixes.ts';
import { serviceResource } from '../resources/services.ts';
import { playbookResource, sloResource, transitResource } from '../resources/simple.ts';
import { recordResource, zoneResource } from '../resources/zones.ts';
import { healthRoutes } from './health.ts';

export async function registerRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  healthRoutes(app, ctx);
  crud(app, ctx, edgeResource);
  crud(app, ctx, zoneResource);
  crud(app, ctx, recordResource);
  crud(app, ctx, serviceResource);
  crud(app, ctx, prefixResource);
  crud(app, ctx, policyResource);
  crud(app, ctx, transitResource);
  crud(app, ctx, sloResource);
  crud(app, ctx, playbookResource);
}
