import { CatchmentError, cidrProblem, normaliseName, parseCidr } from '@catchment/core';
import { type Db, schema } from '@catchment/db';
import { countryContinent } from '@catchment/geo';
import { and, eq, gt, isNull, or } from 'drizzle-orm';
import { fieldProblem } from '../problem.ts';

export interface PinParams {
  cidr?: string;
  country?: string;
  name?: string;
}

/**
 * What the schema cannot check of a `pin` action: exactly one of cidr and country, the CIDR's
 * host bits, a known country, the service exists and the pinned edge has an address for it (or
 * for some service, when the pin is for every service), and no active pin of the same clients
 * and service already (unpin it first: two pins of one block would leave the older one
 * hidden underneath, to come back when the newer is reverted). Normalises `params` in place.
 */
export async function checkPin(db: Db, edge: string, edgeId: number, params: PinParams): Promise<void> {
  if ((params.cidr === undefined) === (params.country === undefined))
    throw fieldProblem([
      { path: '/params', message: 'give exactly one of cidr and country', code: 'VALIDATION_FAILED' },
    ]);
  if (params.cidr !== undefined) {
    const problem = cidrProblem(params.cidr);
    if (problem) throw fieldProblem([{ path: '/params/cidr', message: problem, code: 'CIDR_INVALID' }]);
    params.cidr = parseCidr(params.cidr).text;
  }
  if (params.country !== undefined && countryContinent(params.country) === undefined)
    throw fieldProblem([
      {
        path: '/params/country',
        message: `"${params.country}" is not an ISO 3166-1 country`,
        code: 'VALIDATION_FAILED',
      },
    ]);
  const addresses = await db
    .select({ service: schema.services.name })
    .from(schema.serviceAddresses)
    .innerJoin(schema.services, eq(schema.services.id, schema.serviceAddresses.serviceId))
    .where(eq(schema.serviceAddresses.edgeId, edgeId));
  if (params.name !== undefined) {
    params.name = normaliseName(params.name);
    const [svc] = await db
      .select({ id: schema.services.id })
      .from(schema.services)
      .where(eq(schema.services.name, params.name));
    if (!svc)
      throw fieldProblem([
        { path: '/params/name', message: `unknown service "${params.name}"`, code: 'REFERENCE_UNKNOWN' },
      ]);
    if (!addresses.some((a) => a.service === params.name))
      throw fieldProblem([
        {
          path: '/params/name',
          message: `edge "${edge}" has no address for ${params.name}: the pin could not answer`,
          code: 'VALIDATION_FAILED',
        },
      ]);
  } else if (addresses.length === 0) {
    throw fieldProblem([
      { path: '/edge', message: `edge "${edge}" has no address for any service`, code: 'VALIDATION_FAILED' },
    ]);
  }
  const t = schema.actions;
  const active = await db
    .select({ id: t.id, params: t.params })
    .from(t)
    .where(and(eq(t.kind, 'pin'), isNull(t.revertedAt), or(isNull(t.expiresAt), gt(t.expiresAt, new Date()))));
  const same = active.find((a) => {
    const p = a.params as PinParams;
    return p.cidr === params.cidr && p.country === params.country && p.name === params.name;
  });
  if (same)
    throw new CatchmentError(
      'STATE_CONFLICT',
      `${params.cidr ?? `country ${params.country}`} is already pinned${params.name ? ` for ${params.name}` : ''} by action ${same.id}: unpin it first`,
      { details: { actionId: same.id } },
    );
}
