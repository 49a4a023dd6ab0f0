import { type Db, schema } from '@catchment/db';

export interface AuditEntry {
  actor: string;
  action: string;
  objectType: string;
  objectId?: string | null;
  reason?: string | null;
  forced?: boolean;
  before?: unknown;
  after?: unknown;
}

/** Appends to the audit log; call it with the transaction that makes the change. */
export async function recordAudit(tx: Db, entry: AuditEntry): Promise<void> {
  await tx.insert(schema.auditLog).values({
    actor: entry.actor,
    action: entry.action,
    objectType: entry.objectType,
    objectId: entry.objectId ?? null,
    reason: entry.reason ?? null,
    forced: entry.forced ?? false,
    before: entry.before ?? null,
    after: entry.after ?? null,
  });
}
