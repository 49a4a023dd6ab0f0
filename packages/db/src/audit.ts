import { and, desc, eq, inArray, max } from 'drizzle-orm';
import type { Db } from './connection.ts';
import { auditLog } from './schema.ts';

export interface AuditEntry {
  actor: string;
  action: string;
  objectType: string;
  objectId?: string | null;
  reason?: string | null;
  forced?: boolean;
  before?: unknown;
  after?: unknown;
  /** When it happened (default: the database's clock); the controller stamps its own clock. */
  at?: Date;
}

/** Appends to the audit log; call it inside the transaction of the change it records. */
export async function recordAudit(tx: Pick<Db, 'insert'>, entries: AuditEntry | AuditEntry[]): Promise<void> {
  const list = Array.isArray(entries) ? entries : [entries];
  if (list.length === 0) return;
  await tx.insert(auditLog).values(
    list.map((e) => ({
      ...(e.at ? { at: e.at } : {}),
      actor: e.actor,
      action: e.action,
      objectType: e.objectType,
      objectId: e.objectId ?? null,
      reason: e.reason ?? null,
      forced: e.forced ?? false,
      before: e.before ?? null,
      after: e.after ?? null,
    })),
  );
}

/** A configuration import audits its changes under the document's section names (`edges`). */
const importedAs: Record<string, string> = {
  zone: 'zones',
  edge: 'edges',
  transit: 'transits',
  policy: 'policies',
  prefix: 'prefixes',
  service: 'services',
  slo: 'slos',
  playbook: 'playbooks',
};

/**
 * The object's version: the id of the last audit entry that wrote it. Audit ids come from one
 * sequence and every write records one in its transaction, so this only grows, also when a
 * write restores earlier content (0 for an object no audited write has touched yet).
 */
export async function objectRevision(db: Pick<Db, 'select'>, objectType: string, objectId: string): Promise<number> {
  const types = [objectType, ...(importedAs[objectType] ? [importedAs[objectType]] : [])];
  const [row] = await db
    .select({ revision: max(auditLog.id) })
    .from(auditLog)
    .where(and(inArray(auditLog.objectType, types), eq(auditLog.objectId, objectId)));
  return row?.revision ?? 0;
}

/** The latest audit entry of one action on one object (who approved a run, and when). */
export async function latestAudit(
  db: Pick<Db, 'select'>,
  objectType: string,
  objectId: string,
  action: string,
): Promise<{ actor: string; at: Date } | undefined> {
  const [row] = await db
    .select({ actor: auditLog.actor, at: auditLog.at })
    .from(auditLog)
    .where(and(eq(auditLog.objectType, objectType), eq(auditLog.objectId, objectId), eq(auditLog.action, action)))
    .orderBy(desc(auditLog.id))
    .limit(1);
  return row;
}
