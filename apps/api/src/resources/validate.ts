import { type CatchmentConfig, domainErrors, type FieldError } from '@catchment/core';
import { type Db, exportConfig } from '@catchment/db';
import { fieldProblem } from '../problem.ts';

type ListName = Exclude<keyof CatchmentConfig, 'settings'>;

/**
 * Checks one candidate object against the domain rules in the context of everything
 * else in the database: the candidate replaces `replaces` (an update) or is appended
 * (a create), and only errors about the candidate itself are reported, with paths
 * relative to the request body.
 */
export async function checkDomain<L extends ListName>(
  db: Db,
  list: L,
  candidate: NonNullable<CatchmentConfig[L]>[number],
  replaces?: (item: NonNullable<CatchmentConfig[L]>[number]) => boolean,
): Promise<void> {
  const cfg: CatchmentConfig = await exportConfig(db);
  const known = new Set(domainErrors(cfg).map((e) => `${e.path} ${e.message}`));
  const items = ((cfg[list] ?? []) as NonNullable<CatchmentConfig[L]>[number][]).filter((item) => !replaces?.(item));
  items.push(candidate);
  (cfg as Record<string, unknown>)[list] = items;
  const prefix = `/${list}/${items.length - 1}`;
  const all = domainErrors(cfg);
  const errors: FieldError[] = all
    .filter((e) => e.path === prefix || e.path.startsWith(`${prefix}/`))
    .map((e) => {
      const path = e.path.slice(prefix.length);
      return { ...e, path };
    });
  // The candidate may break a rule of an object in another list (a new anycast prefix
  // covering an edge's DSR address): refused too, reported on the request body.
  for (const e of all) {
    if (e.path.startsWith(`/${list}/`) || known.has(`${e.path} ${e.message}`)) continue;
    if (e.code === 'DSR_ADDRESS_INVALID')
      errors.push({ ...e, path: '', message: `would make ${e.path} invalid: ${e.message}` });
  }
  if (errors.length > 0) throw fieldProblem(errors);
}
