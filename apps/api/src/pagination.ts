import { CatchmentError } from '@catchment/core';
import { type TSchema, Type } from 'typebox';

/**
 * Cursor pagination over a stable, unique, increasing key (the row id): the cursor is
 * the opaque encoding of the last key returned, so inserts and deletes between pages
 * never skip or repeat rows (offsets would).
 */
export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'nextCursor of the previous page' })),
};

export function Page<T extends TSchema>(item: T) {
  return Type.Object({
    items: Type.Array(item),
    nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'null on the last page' }),
  });
}

export function decodeCursor(cursor: string | undefined): number {
  if (cursor === undefined || cursor === '') return 0;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const m = /^k:(\d{1,15})$/.exec(text);
  if (!m) throw new CatchmentError('INVALID_CURSOR', 'the cursor is not one this API returned');
  return Number(m[1]);
}

/** A cursor over a text key (e.g. consumer names): it must decode to text the key's pattern allows. */
export function decodeTextCursor(cursor: string | undefined, pattern: RegExp): string {
  if (cursor === undefined || cursor === '') return '';
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!pattern.test(text)) throw new CatchmentError('INVALID_CURSOR', 'the cursor is not one this API returned');
  return text;
}

export function encodeCursor(key: number): string {
  return Buffer.from(`k:${key}`).toString('base64url');
}

/** Rows were fetched with limit + 1: the extra row says whether a next page exists. */
export function pageOf<R, T>(rows: R[], limit: number, key: (r: R) => number, map: (r: R) => T) {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map(map),
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(key(last)) : null,
  };
}
