import { durationProblem, MAX_DURATION_MS, MAX_DURATION_TEXT, parseDuration } from '@catchment/core';
import { fieldProblem } from '../problem.ts';
import type { CommonBody } from './schemas.ts';

/** When a new action expires: its `expiresAt` or now + `ttl` (one of them, in the future, bounded), or never. */
export function expiryOf(b: CommonBody): Date | null {
  if (b.expiresAt && b.ttl)
    throw fieldProblem([{ path: '/ttl', message: 'give expiresAt or ttl, not both', code: 'VALIDATION_FAILED' }]);
  const path = b.ttl ? '/ttl' : '/expiresAt';
  const problem = b.ttl ? durationProblem(b.ttl) : undefined;
  if (problem) throw fieldProblem([{ path, message: problem, code: 'VALIDATION_FAILED' }]);
  const now = Date.now();
  const at = b.expiresAt ? new Date(b.expiresAt) : b.ttl ? new Date(now + parseDuration(b.ttl)) : null;
  if (at && at.getTime() <= now)
    throw fieldProblem([{ path, message: 'expiry is in the past', code: 'VALIDATION_FAILED' }]);
  // The same bound as a ttl, so an expiry is never further away than the longest duration.
  if (at && at.getTime() > now + MAX_DURATION_MS)
    throw fieldProblem([
      {
        path,
        message: `expiry is further away than the longest duration, ${MAX_DURATION_TEXT}`,
        code: 'VALIDATION_FAILED',
      },
    ]);
  return at;
}
