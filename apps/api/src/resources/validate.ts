import { type CatchmentConfig, domainErrors, type ErrorCode, type FieldError } from '@catchment/core';
import { type Db, exportConfig } from '@catchment/db';
import { type CodedFieldError, fieldProblem } from '../problem.ts';

type ListName = Exclude<keyof CatchmentConfig, 'settings'>;

/**
 * The stable code of one domain error of `domainErrors` (packages/core config.ts).
 * Core reports path + message; the kind is recognised from them here, in one place.
 */
export function codeOf(e: FieldError): ErrorCode {
  const m = e.message;
  if (/longest announceable/.test(m)) return 'PREFIX_TOO_LONG';
  if (/overlaps|duplicate prefix/.test(m)) return 'PREFIX_OVERLAP';
  if (/is not inside .*\//.test(m) || /is not an anycast supernet/.test(m)) return 'PREFIX_OUTSIDE_SUPERNET';
  if (/is not declared as a prefix|^unknown (edge|zone|policy|SLO|transit)|no transit defines intent/.test(m))
    return 'REFERENCE_UNKNOWN';
  if (/\/(communities|intents)\//.test(e.path)) return 'COMMUNITY_INVALID';
  if (/is not inside zone/.test(m)) return 'NAME_OUT_OF_ZONE';
  if (/duplicate name/.test(m)) return 'NAME_TAKEN';
  if (/threshold/.test(m)) return 'SLO_INVALID';
  if (/^\/steps\//.test(e.path) || /schedule/.test(m)) return 'PLAYBOOK_INVALID';
  if (/is not an (IP|IPv4|IPv6) address/.test(m) && !/\/(cidr|supernet|prefixes|ecsTrustedResolvers)/.test(e.path))
    return 'ADDRESS_INVALID';
  if (/CIDR|prefix length|host bits|IPv4 or IPv6 address/.test(m)) return 'CIDR_INVALID';
  return 'VALIDATION_FAILED';
}

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
  const errors: CodedFieldError[] = domainErrors(cfg)
    .filter((e) => e.path === prefix || e.path.startsWith(`${prefix}/`))
    .map((e) => {
      const path = e.path.slice(prefix.length);
      const out = { path, message: e.message };
      return { ...out, code: codeOf(out) };
    });
  if (errors.length > 0) throw fieldProblem(errors);
}
