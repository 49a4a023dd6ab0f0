import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDatabaseUnreachable } from '../src/index.ts';

describe('isDatabaseUnreachable', () => {
  it('counts connection failures and a read-only server (a standby during a failover), not refused queries', () => {
    assert.equal(isDatabaseUnreachable(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })), true);
    assert.equal(isDatabaseUnreachable({ code: 'CONNECTION_CLOSED' }), true);
    assert.equal(isDatabaseUnreachable({ code: '57P01' }), true);
    // 25006 read_only_sql_transaction: the pool reached a standby (no primary yet). Drizzle wraps it.
    const readOnly = Object.assign(new Error('cannot execute INSERT in a read-only transaction'), { code: '25006' });
    assert.equal(isDatabaseUnreachable(new Error('Failed query', { cause: readOnly })), true);
    assert.equal(isDatabaseUnreachable({ code: '23505' }), false, 'a unique violation is an answer');
    assert.equal(isDatabaseUnreachable(new Error('boom')), false);
  });
});
