import { type DbMode, type TestApi as Harness, startApiHarness } from '@catchment/testkit/api-harness';
import { type ApiOptions, createToken, type StartedApi, startApi } from '../src/index.ts';

export { buildWorld, dbFingerprint, EDGE_FRA, getFrom, type Reply } from '@catchment/testkit/api-harness';

export type TestApi = Harness<StartedApi>;

/** A real API listening on 127.0.0.1 over a fresh database, with one token per role. Call close(). */
export function startTestApi(mode: DbMode, opts: Partial<ApiOptions> = {}): Promise<TestApi> {
  // Load-only publications soon after reports, so tests that wait for them wait little.
  return startApiHarness(mode, { startApi, createToken }, { loadPublication: { intervalMs: 100 }, ...opts });
}
