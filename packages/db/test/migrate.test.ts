import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { migrate, migrationStatus, rowsOf } from '@catchment/db';
import { DB_MODES, freshDatabase } from '@catchment/testkit';
import { sql } from 'drizzle-orm';

for (const mode of DB_MODES) {
  describe(`migrations on ${mode}`, () => {
    it('apply from empty, are idempotent, and report their status', async () => {
      const database = await freshDatabase(mode);
      try {
        await migrate(database); // second run: nothing to do, no error
        const status = await migrationStatus(database.db);
        assert.equal(status.applied, status.available);
        assert.ok(status.available >= 2);
        const tables = rowsOf<{ table_name: string }>(
          await database.db.execute(
            sql`select table_name from information_schema.tables where table_schema = 'public' order by 1`,
          ),
        ).map((r) => r.table_name);
        for (const t of ['zones', 'edges', 'prefixes', 'snapshots', 'audit_log', 'api_tokens', 'playbook_runs']) {
          assert.ok(tables.includes(t), `table ${t} exists`);
        }
      } finally {
        await database.close();
      }
    });
  });
}
