import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { SNAPSHOT_READ } from '../auth.ts';
import { errorResponses } from '../schemas.ts';

/** Who the presented token is: clients (the dashboard) show only what the role may do. */
export function whoamiRoutes(app: FastifyInstance): void {
  app.get(
    '/v1/whoami',
    {
      config: { access: SNAPSHOT_READ },
      schema: {
        tags: ['tokens'],
        summary: 'The name, role and scope of the presented token',
        response: {
          200: Type.Object({
            name: Type.String(),
            role: Type.String(),
            scope: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => ({
      name: req.principal?.name ?? '',
      role: req.principal?.role ?? '',
      scope: req.principal?.scope ?? null,
    }),
  );
}
