import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freshPostgresUrl } from '@catchment/testkit';
import { sql } from 'drizzle-orm';
import { isDatabaseUnreachable, openDatabase } from '../src/index.ts';

// postgres.js 3.4.x writes a transaction's ROLLBACK on a socket its close handler has
// already dropped, from a setImmediate: an uncaught TypeError that ended the API process
// in the Patroni failover test (porsager/postgres#1208). patches/postgres@3.4.9.patch.
describe('a PostgreSQL backend that dies inside a transaction', () => {
  it('rejects the transaction as unreachable; the process lives and the pool reconnects', async () => {
    const url = await freshPostgresUrl();
    const database = await openDatabase({ url, poolSize: 2 });
    const killer = await openDatabase({ url, poolSize: 1 });
    const crashes: unknown[] = [];
    const onCrash = (err: unknown) => crashes.push(err);
    process.on('uncaughtException', onCrash);
    try {
      let pid: number | undefined;
      const tx = database.db.transaction(async (t) => {
        const rows = (await t.execute(sql`select pg_backend_pid() as pid`)) as unknown as { pid: number }[];
        pid = rows[0]?.pid;
        await t.execute(sql`select pg_sleep(5)`);
      });
      const outcome = tx.then(
        () => 'committed',
        (err: unknown) => err,
      );
      while (pid === undefined) await sleep(20);
      await killer.db.execute(sql`select pg_terminate_backend(${pid})`);
      const err = await outcome;
      assert.notEqual(err, 'committed');
      assert.equal(isDatabaseUnreachable(err), true, `unreachable, not ${String(err)}`);
      await sleep(200); // the deferred write runs on the next turns of the loop
      assert.deepEqual(crashes, []);
      const again = (await database.db.execute(sql`select 1 as one`)) as unknown as { one: number }[];
      assert.equal(again[0]?.one, 1);
    } finally {
      process.off('uncaughtException', onCrash);
      await database.close();
      await killer.close();
    }
  });
});
