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
  const items = ((cfg[list] ?? []) as NonNullable<CatchmentConfig[L]>[number][]).filter((item) => !replaces?.(item));
  items.push(candidate);
  (cfg as Record<string, unknown>)[list] = items;
  const prefix = `/${list}/${items.length - 1}`;
  const errors: FieldError[] = domainErrors(cfg)
    .filter((e) => e.path === prefix || e.path.startsWith(`${prefix}/`))
    .map((e) => {
      const path = e.path.slice(prefix.length);
      return { ...e, path };
    });
  if (errors.length > 0) throw fieldProblem(errors);
}
