import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  agentReportStaleMs,
  DEFAULT_AGENT_REPORT_STALE_SECONDS,
  formatAge,
  observedAnnouncementProblem,
  observedHealth,
  type SnapshotObserved,
} from '../src/index.ts';

const now = Date.parse('2026-12-07T08:00:00Z');
const at = (ageMs: number, o: Partial<SnapshotObserved> = {}): SnapshotObserved => ({
  reportedAt: new Date(now - ageMs).toISOString(),
  healthy: true,
  problems: [],
  exported: ['198.18.0.0/20'],
  ...o,
});

test('the bound: 3 report intervals by default, configurable in the settings', () => {
  assert.equal(DEFAULT_AGENT_REPORT_STALE_SECONDS, 30);
  assert.equal(agentReportStaleMs({}), 30_000);
  assert.equal(agentReportStaleMs({ agentReportStaleSeconds: 90 }), 90_000);
});

test('an edge whose agents have not reported within the bound is unknown; at the bound it is not yet', () => {
  const bound = 30_000;
  assert.deepEqual(observedHealth(at(4_000), now, bound), { state: 'healthy', ageMs: 4_000, reason: null });
  assert.equal(observedHealth(at(bound), now, bound).state, 'healthy');
  const late = observedHealth(at(bound + 1), now, bound);
  assert.equal(late.state, 'unknown');
  assert.match(late.reason ?? '', /no agent report for 30 s \(bound 30 s\)/);
  // Unknown even when the last report said healthy: silence is not health.
  assert.equal(observedHealth(at(10 * 60_000), now, bound).state, 'unknown');
  assert.deepEqual(observedHealth({ reportedAt: null, healthy: true, problems: [], exported: [] }, now, bound), {
    state: 'unknown',
    ageMs: null,
    reason: 'no agent has reported',
  });
  // A garbled time is no report.
  assert.equal(observedHealth({ ...at(0), reportedAt: 'yesterday' }, now, bound).state, 'unknown');
  // A fresh report of trouble is unhealthy, with the agent's reasons.
  const bad = observedHealth(at(2_000, { healthy: false, problems: ['no established BGP session'] }), now, bound);
  assert.deepEqual(bad, { state: 'unhealthy', ageMs: 2_000, reason: 'no established BGP session' });
});

test('an announcement is observed when healthy, recent and exported; force-up and unobserved edges are taken as intended', () => {
  const edge = (observed: SnapshotObserved | undefined, override: 'none' | 'force-up' = 'none') => ({
    name: 'fra',
    override,
    ...(observed ? { observed } : {}),
  });
  assert.equal(observedAnnouncementProblem(edge(at(4_000)), '198.18.0.0/20', now, 30_000), null);
  assert.equal(
    observedAnnouncementProblem(edge(at(4_000, { exported: [] })), '198.18.0.0/20', now, 30_000),
    'fra: no established session exports 198.18.0.0/20 (agent report 4 s old)',
  );
  assert.match(observedAnnouncementProblem(edge(at(45_000)), '198.18.0.0/20', now, 30_000) ?? '', /unknown/);
  assert.equal(observedAnnouncementProblem(edge(at(45_000), 'force-up'), '198.18.0.0/20', now, 30_000), null);
  assert.equal(observedAnnouncementProblem(edge(undefined), '198.18.0.0/20', now, 30_000), null);
});

test('ages read as people read them', () => {
  assert.equal(formatAge(4_200), '4 s');
  assert.equal(formatAge(119_000), '119 s');
  assert.equal(formatAge(600_000), '10 min');
  assert.equal(formatAge(3 * 3_600_000), '3 h');
});
