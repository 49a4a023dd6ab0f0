import {
  type ActionKind,
  CatchmentError,
  cidrProblem,
  communityProblem,
  EDGE_SCOPED_ACTIONS,
  parseCidr,
} from '@catchment/core';
import { type Db, schema } from '@catchment/db';
import { eq } from 'drizzle-orm';
import { fieldProblem } from '../problem.ts';
import { checkPin, type PinParams } from './pin.ts';

export interface NewAction {
  kind: ActionKind;
  edge: string | null;
  params: Record<string, unknown>;
  revert?: boolean;
}

/** Resolves names to ids and checks what the schemas cannot: targets exist, syntax of communities and CIDRs. */
export async function resolveAction(db: Db, a: NewAction): Promise<{ edgeId: number | null; prefixId: number | null }> {
  const edges = await db.select({ id: schema.edges.id, name: schema.edges.name }).from(schema.edges);
  const edgeId = (name: string) => edges.find((e) => e.name === name)?.id;
  let id: number | null = null;
  if (a.edge !== null) {
    id = edgeId(a.edge) ?? null;
    if (id === null) throw new CatchmentError('NOT_FOUND', `edge "${a.edge}" does not exist`);
  } else if (EDGE_SCOPED_ACTIONS.has(a.kind)) {
    throw fieldProblem([{ path: '/edge', message: `${a.kind} needs an edge`, code: 'VALIDATION_FAILED' }]);
  }
  if (a.kind === 'pin' && a.edge !== null && id !== null) await checkPin(db, a.edge, id, a.params as PinParams);
  checkTargets(a, (n) => edgeId(n) !== undefined);
  checkCommunities(a);
  await checkTransit(db, a);
  return { edgeId: id, prefixId: await resolvePrefix(db, a, id) };
}

function checkTargets(a: NewAction, known: (edge: string) => boolean): void {
  const targets = (a.params.targets as string[] | undefined) ?? [];
  const unknown = targets.map((n, i) => ({ n, i })).filter(({ n }) => !known(n));
  if (unknown.length > 0)
    throw fieldProblem(
      unknown.map(({ n, i }) => ({
        path: `/params/targets/${i}`,
        message: `unknown edge "${n}"`,
        code: 'REFERENCE_UNKNOWN',
      })),
    );
  if (targets.includes(a.edge ?? ''))
    throw fieldProblem([
      { path: '/params/targets', message: 'an edge cannot be its own target', code: 'VALIDATION_FAILED' },
    ]);
}

function checkCommunities(a: NewAction): void {
  const communities = (a.params.communities as string[] | undefined) ?? [];
  const bad = communities.map((c, i) => ({ i, p: communityProblem(c) })).filter((x) => x.p);
  if (bad.length > 0)
    throw fieldProblem(
      bad.map(({ i, p }) => ({ path: `/params/communities/${i}`, message: p ?? '', code: 'COMMUNITY_INVALID' })),
    );
}

async function checkTransit(db: Db, a: NewAction): Promise<void> {
  const transit = a.params.transit as string | undefined;
  if (transit === undefined) return;
  const [tr] = await db.select().from(schema.transits).where(eq(schema.transits.name, transit));
  if (!tr)
    throw fieldProblem([
      { path: '/params/transit', message: `unknown transit "${transit}"`, code: 'REFERENCE_UNKNOWN' },
    ]);
}

/** The id of the action's prefix (a withdrawal's must be a unicast prefix of its edge); canonicalises its text. */
async function resolvePrefix(db: Db, a: NewAction, edgeId: number | null): Promise<number | null> {
  const prefix = a.params.prefix as string | undefined;
  if (prefix === undefined) return null;
  const problem = cidrProblem(prefix);
  if (problem) throw fieldProblem([{ path: '/params/prefix', message: problem, code: 'CIDR_INVALID' }]);
  const [p] = await db
    .select()
    .from(schema.prefixes)
    .where(eq(schema.prefixes.cidr, parseCidr(prefix).text));
  if (!p) throw new CatchmentError('NOT_FOUND', `prefix ${prefix} does not exist`);
  if (a.kind === 'withdraw-unicast' && (p.kind !== 'unicast' || p.edgeId !== edgeId))
    throw fieldProblem([
      {
        path: '/params/prefix',
        message: `${prefix} is not a unicast prefix of edge "${a.edge}"`,
        code: 'VALIDATION_FAILED',
      },
    ]);
  a.params.prefix = p.cidr;
  return p.id;
}
