import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '@catchment/core';
import { type Database, openDatabase, publishSnapshot } from '@catchment/db';
import { DB_MODES, freshDatabase, until } from '@catchment/testkit';
import { SnapshotHub } from '../src/index.ts';

const logger = createLogger('test');
/** Long enough that only a notification can wake a waiter within the test. */
const NO_POLL = 3_600_000;

for (const mode of DB_MODES) {
  describe(`the snapshot hub across processes on ${mode}`, () => {
    it('wakes long-polls of another connection when a version is published (LISTEN/NOTIFY, no poll)', async () => {
      const publisher = await freshDatabase(mode);
      // On PostgreSQL a second pool, as a second API instance has; PGlite is one process's database.
      const other: Database = mode === 'postgres' ? await openDatabase({ url: publisher.url }) : publisher;
      const hub = new SnapshotHub({ db: other.db, logger, pollMs: NO_POLL, listen: other.listen.bind(other) });
      try {
        await hub.subscribe();
        await until('LISTEN established', async () => hub.listening || undefined, 10_000);
        const waiting = hub.waitNewer(0, 30_000);
        await until('the long-poll waiting', async () => (hub.waiting === 1 ? true : undefined), 5_000);
        const { snapshot } = await publishSnapshot(publisher.db, { actor: 'another instance' });
        const woken = await waiting;
        assert.equal(woken?.version, snapshot.version, 'woken by the notification with the published version');
        assert.equal(hub.latestKnown()?.checksum, snapshot.checksum);
      } finally {
        hub.close();
        if (other !== publisher) await other.close();
        await publisher.close();
      }
    });
  });
}
