import { CatchmentError, type ErrorCode } from '@catchment/core';
import type { Db } from '@catchment/db';
import { recordAudit } from '@catchment/db';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type TSchema, Type } from 'typebox';
import { type Access, actorOf, OPERATE, READ } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { checkIfMatch, currentEtag, noneMatch } from '../etag.ts';
import { decodeCursor, Page, PageQuery, pageOf } from '../pagination.ts';
import { errorResponses } from '../schemas.ts';
import { bodyCodes } from '../validator.ts';

export interface Stored<T> {
  id: number;
  value: T;
}

/**
 * One configuration resource: how to read, validate and write it. `crud` turns it into
 * list / get / create / replace / delete routes with the same behaviour everywhere:
 * cursor pages, ETags, If-Match (412), audit in the writing transaction, a new snapshot
 * after each committed change.
 */
export interface ResourceSpec<T, B = T> {
  /** Singular, for audit records and messages: `edge`. */
  kind: string;
  /** Path segment under /v1: `edges`. */
  path: string;
  tag: string;
  /** How the object is named in the URL, e.g. `name` or `cidr`. */
  keyParam: string;
  keySchema: TSchema;
  body: TSchema;
  representation: TSchema;
  bodyCode?: ErrorCode;
  filters?: Record<string, TSchema>;
  list(db: Db, filters: Record<string, unknown>, afterId: number, limit: number): Promise<Stored<T>[]>;
  get(db: Db, key: string, forUpdate?: boolean): Promise<Stored<T> | undefined>;
  /** The key a body names (undefined when the server assigns it, e.g. record ids). */
  keyOf(body: B): string | undefined;
  validate(db: Db, body: B, existing?: Stored<T>): Promise<void>;
  /** Inserts and returns the new object's key. */
  create(tx: Db, body: B): Promise<string>;
  update?(tx: Db, existing: Stored<T>, body: B): Promise<void>;
  remove?(tx: Db, existing: Stored<T>): Promise<void>;
  writeAccess?: Access;
}

/** The read-only `id` a PUT body carried, checked against the object inside the transaction. */
const readOnlyIds = new WeakMap<FastifyRequest, number>();

/** Sends an object with its ETag (from `currentEtag`); a GET whose If-None-Match lists it is 304. */
export function sendWithEtag(req: FastifyRequest, reply: FastifyReply, value: unknown, etag: string) {
  reply.header('etag', etag);
  if (req.method === 'GET' && noneMatch(req, etag)) return reply.code(304).send();
  return reply.send(value);
}

export function crud<T, B>(app: FastifyInstance, ctx: ApiContext, spec: ResourceSpec<T, B>): void {
  const base = `/v1/${spec.path}`;
  const item = `${base}/:${spec.keyParam}`;
  const params = Type.Object({ [spec.keyParam]: spec.keySchema });
  const write = spec.writeAccess ?? OPERATE;
  const representationProps = (spec.representation as { properties?: Record<string, unknown> }).properties ?? {};
  const notFound = (key: string) => new CatchmentError('NOT_FOUND', `${spec.kind} "${key}" does not exist`);
  const keyFrom = (req: FastifyRequest) => (req.params as Record<string, string>)[spec.keyParam] ?? '';
  const read = async (db: Db, key: string, forUpdate = false) => {
    const found = await spec.get(db, key, forUpdate);
    if (!found) throw notFound(key);
    return found;
  };
  if (spec.bodyCode) {
    bodyCodes.set(base, spec.bodyCode);
    bodyCodes.set(item, spec.bodyCode);
  }

  app.get(
    base,
    {
      config: { access: READ },
      schema: {
        tags: [spec.tag],
        summary: `List ${spec.path}`,
        querystring: Type.Object({ ...PageQuery, ...(spec.filters ?? {}) }, { additionalProperties: false }),
        response: { 200: Page(spec.representation), ...errorResponses },
      },
    },
    async (req) => {
      const { limit = 100, cursor, ...filters } = req.query as { limit?: number; cursor?: string };
      const rows = await spec.list(ctx.db, filters, decodeCursor(cursor), limit + 1);
      return pageOf(
        rows,
        limit,
        (r) => r.id,
        (r) => r.value,
      );
    },
  );

  app.get(
    item,
    {
      config: { access: READ },
      schema: {
        tags: [spec.tag],
        summary: `Get one ${spec.kind}`,
        params,
        response: { 200: spec.representation, 304: Type.Null(), ...errorResponses },
      },
    },
    async (req, reply) => {
      const key = keyFrom(req);
      const found = await read(ctx.db, key);
      return sendWithEtag(req, reply, found.value, await currentEtag(ctx.db, spec.kind, key, found.value));
    },
  );

  app.post(
    base,
    {
      config: { access: write },
      schema: {
        tags: [spec.tag],
        summary: `Create a ${spec.kind}`,
        body: spec.body,
        response: { 201: spec.representation, ...errorResponses },
      },
    },
    async (req, reply) => {
      const body = req.body as B;
      const actor = actorOf(req);
      const [key, created] = await ctx.db.transaction(async (tx) => {
        const named = spec.keyOf(body);
        if (named !== undefined && (await spec.get(tx, named)))
          throw new CatchmentError('NAME_TAKEN', `${spec.kind} "${named}" already exists`);
        await spec.validate(tx, body);
        const key = await spec.create(tx, body);
        const after = await read(tx, key);
        await recordAudit(tx, { actor, action: 'create', objectType: spec.kind, objectId: key, after: after.value });
        return [key, { ...after, etag: await currentEtag(tx, spec.kind, key, after.value) }] as const;
      });
      await ctx.changed(actor);
      reply.code(201).header('location', `${base}/${encodeURIComponent(key)}`);
      return sendWithEtag(req, reply, created.value, created.etag);
    },
  );

  const update = spec.update;
  if (update) {
    app.put(
      item,
      {
        config: { access: write, ifMatch: true },
        // A representation carries its read-only id: a GET -> PUT round trip sends it back.
        preValidation: async (req) => {
          const b = req.body as Record<string, unknown> | null;
          if (b && typeof b === 'object' && !Array.isArray(b) && 'id' in b && 'id' in representationProps) {
            if (typeof b.id !== 'number' || !Number.isInteger(b.id))
              throw new CatchmentError('VALIDATION_FAILED', 'body /id: must be the integer id of the object', {
                errors: [{ path: '/id', message: 'must be an integer', code: 'VALIDATION_FAILED' }],
              });
            readOnlyIds.set(req, b.id);
            delete b.id;
          }
        },
        schema: {
          tags: [spec.tag],
          summary: `Replace a ${spec.kind} (If-Match supported)`,
          params,
          body: spec.body,
          response: { 200: spec.representation, ...errorResponses },
        },
      },
      async (req, reply) => {
        const key = keyFrom(req);
        const body = req.body as B;
        const actor = actorOf(req);
        const sentId = readOnlyIds.get(req);
        const after = await ctx.db.transaction(async (tx) => {
          const existing = await read(tx, key, true);
          await checkIfMatch(req, tx, spec.kind, key, existing.value);
          if (sentId !== undefined && sentId !== existing.id)
            throw new CatchmentError('VALIDATION_FAILED', `the id of a ${spec.kind} cannot change`, {
              errors: [{ path: '/id', message: `must stay ${existing.id}`, code: 'VALIDATION_FAILED' }],
            });
          const named = spec.keyOf(body);
          if (named !== undefined && named !== key)
            throw new CatchmentError('VALIDATION_FAILED', `the ${spec.keyParam} of a ${spec.kind} cannot change`, {
              errors: [{ path: `/${spec.keyParam}`, message: `must stay "${key}"` }],
            });
          await spec.validate(tx, body, existing);
          await update(tx, existing, body);
          const now = await read(tx, key);
          await recordAudit(tx, {
            actor,
            action: 'update',
            objectType: spec.kind,
            objectId: key,
            before: existing.value,
            after: now.value,
          });
          return { ...now, etag: await currentEtag(tx, spec.kind, key, now.value) };
        });
        await ctx.changed(actor);
        return sendWithEtag(req, reply, after.value, after.etag);
      },
    );
  }

  const remove = spec.remove;
  if (remove) {
    app.delete(
      item,
      {
        config: { access: write, ifMatch: true },
        schema: {
          tags: [spec.tag],
          summary: `Delete a ${spec.kind} (If-Match supported)`,
          params,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (req, reply) => {
        const key = keyFrom(req);
        const actor = actorOf(req);
        await ctx.db.transaction(async (tx) => {
          const existing = await read(tx, key, true);
          await checkIfMatch(req, tx, spec.kind, key, existing.value);
          await remove(tx, existing);
          await recordAudit(tx, {
            actor,
            action: 'delete',
            objectType: spec.kind,
            objectId: key,
            before: existing.value,
          });
        });
        await ctx.changed(actor);
        return reply.code(204).send();
      },
    );
  }
}
