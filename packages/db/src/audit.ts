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
}

/** Appends to the audit log; call it inside the transaction of the change it records. */
export async function recordAudit(tx: Pick<Db, 'insert'>, entries: AuditEntry | AuditEntry[]): Promise<void> {
  const list = Array.isArray(entries) ? entries : [entries];
  if (list.length === 0) return;
  await tx.insert(auditLog).values(
    list.map((e) => ({
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
