import {
  type CatchmentConfig,
  CatchmentError,
  type FieldError,
  type NormalConfig,
  normaliseConfig,
  validateConfig,
} from '@catchment/core';
import { eq, inArray } from 'drizzle-orm';
import { recordAudit } from './audit.ts';
import { CONFIG_KINDS, type ConfigKind, diffConfig, type PlanChange } from './config-diff.ts';
import { exportConfig } from './config-export.ts';
import type { Db } from './connection.ts';
import { edgeColumns, sloColumns, writePolicyRules } from './rows.ts';
import * as t from './schema.ts';

export interface ImportResult {
  changes: PlanChange[];
  applied: boolean;
  /** The configuration as validated and normalised (what the database now holds, if applied). */
  desired: NormalConfig;
}

type Item<K extends ConfigKind> = NormalConfig[K][number];

/**
 * Makes the database hold exactly the objects of `cfg` (declarative: objects absent
 * from the file are deleted). Validates first; plans a diff; with `dryRun` returns the
 * plan only. Otherwise applies it in ONE transaction with an audit record per change:
 * all or nothing, and a database refusal (say, an edge still used by a playbook run)
 * comes back as CONFIG_INVALID with the object's path.
 */
export async function importConfig(
  db: Db,
  input: unknown,
  opts: { actor: string; reason?: string; dryRun?: boolean },
): Promise<ImportResult> {
  const desired = normaliseConfig(validateConfig(input) as CatchmentConfig);
  return db.transaction(async (tx) => {
    const changes = diffConfig(await exportConfig(tx), desired);
    if (opts.dryRun || changes.length === 0) return { changes, applied: false, desired };
    try {
      await applyChanges(tx as unknown as Db, changes, desired);
    } catch (cause) {
      if (cause instanceof CatchmentError) throw cause;
      throw databaseRefusal(cause, changes);
    }
    await recordAudit(
      tx,
      changes.map((c) => ({
        actor: opts.actor,
        action: `config.${c.op}`,
        objectType: c.kind,
        objectId: c.key,
        reason: opts.reason ?? 'configuration import',
        before: c.before,
        after: c.after,
      })),
    );
    return { changes, applied: true, desired };
  });
}

function databaseRefusal(cause: unknown, changes: PlanChange[]): CatchmentError {
  const err = cause as { message?: string; detail?: string; cause?: { message?: string; detail?: string } };
  const inner = err.cause ?? err;
  const message = [inner.message, inner.detail].filter(Boolean).join(': ') || String(cause);
  const errors: FieldError[] = [{ path: '', message: `the database refused the change: ${message}` }];
  return new CatchmentError('CONFIG_INVALID', 'configuration refused by the database', {
    errors,
    details: { changes: changes.map((c) => `${c.op} ${c.kind} ${c.key}`) },
    cause,
  });
}

async function ids(tx: Db, table: 'edges' | 'zones' | 'policies'): Promise<Map<string, number>> {
  const tbl = { edges: t.edges, zones: t.zones, policies: t.policies }[table];
  const rows = await tx.select({ id: tbl.id, name: tbl.name }).from(tbl);
  return new Map(rows.map((r) => [r.name, r.id]));
}

const need = (map: Map<string, number>, name: string, what: string): number => {
  const id = map.get(name);
  if (id === undefined) throw new CatchmentError('CONFIG_INVALID', `unknown ${what} "${name}"`);
  return id;
};

async function applyChanges(tx: Db, changes: PlanChange[], desired: NormalConfig): Promise<void> {
  const upserts = (kind: ConfigKind) => changes.filter((c) => c.kind === kind && c.op !== 'delete').map((c) => c.after);
  const deletes = (kind: ConfigKind) => changes.filter((c) => c.kind === kind && c.op === 'delete').map((c) => c.key);

  if (changes.some((c) => c.kind === 'settings')) {
    await tx
      .insert(t.settings)
      .values({ id: 1, values: desired.settings })
      .onConflictDoUpdate({ target: t.settings.id, set: { values: desired.settings } });
  }

  for (const e of upserts('edges') as Item<'edges'>[]) {
    const row = edgeColumns(e);
    await tx
      .insert(t.edges)
      .values(row)
      .onConflictDoUpdate({ target: t.edges.name, set: { ...row, updatedAt: new Date() } });
  }
  const edgeIds = await ids(tx, 'edges');

  for (const z of upserts('zones') as Item<'zones'>[]) {
    const row = { name: z.name, ttl: z.ttl ?? 3600, soa: z.soa, ns: z.ns, dnssec: z.dnssec ?? null };
    const [saved] = await tx
      .insert(t.zones)
      .values(row)
      .onConflictDoUpdate({ target: t.zones.name, set: { ...row, updatedAt: new Date() } })
      .returning({ id: t.zones.id });
    const zoneId = saved!.id;
    await tx.delete(t.records).where(eq(t.records.zoneId, zoneId));
    const records = (z.records ?? []).map((r) => ({
      zoneId,
      name: r.name === '@' ? z.name : r.name.endsWith('.') ? r.name.slice(0, -1) : `${r.name}.${z.name}`,
      type: r.type,
      ttl: r.ttl ?? null,
      value: r.value,
    }));
    if (records.length > 0) await tx.insert(t.records).values(records);
  }
  const zoneIds = await ids(tx, 'zones');

  for (const tr of upserts('transits') as Item<'transits'>[]) {
    const row = { name: tr.name, asn: tr.asn, intents: tr.intents };
    await tx.insert(t.transits).values(row).onConflictDoUpdate({ target: t.transits.name, set: row });
  }

  for (const p of upserts('policies') as Item<'policies'>[]) {
    const row = { name: p.name, description: p.description ?? null };
    const [saved] = await tx
      .insert(t.policies)
      .values(row)
      .onConflictDoUpdate({ target: t.policies.name, set: { ...row, updatedAt: new Date() } })
      .returning({ id: t.policies.id });
    const policyId = saved!.id;
    await writePolicyRules(tx, policyId, p.rules, (edge) => need(edgeIds, edge, 'edge'));
  }
  const policyIds = await ids(tx, 'policies');

  // Supernets before the unicast prefixes that name them.
  const prefixes = (upserts('prefixes') as Item<'prefixes'>[]).sort((a, b) =>
    a.kind === b.kind ? 0 : a.kind === 'anycast' ? -1 : 1,
  );
  for (const p of prefixes) {
    let supernetId: number | null = null;
    if (p.kind === 'unicast' && p.supernet) {
      const [sup] = await tx.select({ id: t.prefixes.id }).from(t.prefixes).where(eq(t.prefixes.cidr, p.supernet));
      supernetId = sup?.id ?? null;
    }
    const row = {
      cidr: p.cidr,
      kind: p.kind,
      edgeId: p.kind === 'unicast' ? need(edgeIds, p.edge, 'edge') : null,
      supernetId,
      communities: p.communities ?? [],
    };
    const [saved] = await tx
      .insert(t.prefixes)
      .values(row)
      .onConflictDoUpdate({ target: t.prefixes.cidr, set: { ...row, updatedAt: new Date() } })
      .returning({ id: t.prefixes.id });
    await tx.delete(t.prefixAnnouncers).where(eq(t.prefixAnnouncers.prefixId, saved!.id));
    if (p.kind === 'anycast') {
      await tx
        .insert(t.prefixAnnouncers)
        .values(p.announcers.map((a) => ({ prefixId: saved!.id, edgeId: need(edgeIds, a, 'edge') })));
    }
  }

  for (const s of upserts('services') as Item<'services'>[]) {
    const row = {
      name: s.name,
      zoneId: need(zoneIds, s.zone, 'zone'),
      ttl: s.ttl ?? 30,
      policyId: s.policy ? need(policyIds, s.policy, 'policy') : null,
      ports: s.ports ?? [80, 443],
      anycastV4: s.anycast.v4 ?? null,
      anycastV6: s.anycast.v6 ?? null,
    };
    const [saved] = await tx
      .insert(t.services)
      .values(row)
      .onConflictDoUpdate({ target: t.services.name, set: { ...row, updatedAt: new Date() } })
      .returning({ id: t.services.id });
    await tx.delete(t.serviceAddresses).where(eq(t.serviceAddresses.serviceId, saved!.id));
    const addrs = Object.entries(s.addresses).flatMap(([edge, a]) =>
      [...(a.v4 ?? []), ...(a.v6 ?? [])].map((address) => ({
        serviceId: saved!.id,
        edgeId: need(edgeIds, edge, 'edge'),
        address,
      })),
    );
    if (addrs.length > 0) await tx.insert(t.serviceAddresses).values(addrs);
  }

  for (const s of upserts('slos') as Item<'slos'>[]) {
    const row = sloColumns(s, s.edge ? need(edgeIds, s.edge, 'edge') : null);
    await tx
      .insert(t.slos)
      .values(row)
      .onConflictDoUpdate({ target: t.slos.name, set: { ...row, updatedAt: new Date() } });
  }

  for (const p of upserts('playbooks') as Item<'playbooks'>[]) {
    const row = {
      name: p.name,
      mode: p.mode ?? 'auto',
      trigger: p.trigger,
      steps: p.steps,
      cooldown: p.cooldown ?? null,
    };
    await tx
      .insert(t.playbooks)
      .values(row)
      .onConflictDoUpdate({ target: t.playbooks.name, set: { ...row, updatedAt: new Date() } });
  }

  // Deletions, dependents first.
  const del = deletes;
  if (del('playbooks').length) await tx.delete(t.playbooks).where(inArray(t.playbooks.name, del('playbooks')));
  if (del('slos').length) await tx.delete(t.slos).where(inArray(t.slos.name, del('slos')));
  if (del('services').length) await tx.delete(t.services).where(inArray(t.services.name, del('services')));
  const deadPrefixes = changes.filter((c) => c.kind === 'prefixes' && c.op === 'delete');
  for (const kind of ['unicast', 'anycast'] as const) {
    const cidrs = deadPrefixes.filter((c) => (c.before as Item<'prefixes'>).kind === kind).map((c) => c.key);
    if (cidrs.length) await tx.delete(t.prefixes).where(inArray(t.prefixes.cidr, cidrs));
  }
  if (del('policies').length) await tx.delete(t.policies).where(inArray(t.policies.name, del('policies')));
  if (del('transits').length) await tx.delete(t.transits).where(inArray(t.transits.name, del('transits')));
  if (del('zones').length) await tx.delete(t.zones).where(inArray(t.zones.name, del('zones')));
  if (del('edges').length) await tx.delete(t.edges).where(inArray(t.edges.name, del('edges')));
}

export { CONFIG_KINDS };
