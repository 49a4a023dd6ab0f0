import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type AgentReportRow, compileObserved } from '../src/index.ts';

const now = new Date('2026-12-07T08:00:00Z');
const ago = (s: number) => new Date(now.getTime() - s * 1000);
const agent = (
  name: string,
  edge: string,
  ageS: number,
  o: { exported?: string[] | null; healthy?: boolean; problems?: string[]; established?: boolean } = {},
): AgentReportRow => ({
  name,
  edge,
  healthy: o.healthy ?? true,
  reportedAt: ago(ageS),
  details: {
    observed: {
      readable: o.exported !== null,
      healthy: o.healthy ?? true,
      problems: o.problems ?? [],
      sessions: [
        {
          name: 'transit4',
          established: o.established ?? true,
          exported: (o.exported ?? ['198.18.0.0/20']).map((prefix) => ({ prefix })),
        },
      ],
    },
  },
});

test('an edge without agent reports is unknown; a load-only report vouches for nothing', () => {
  const loadOnly: AgentReportRow = { name: 'load-fra', edge: 'fra', healthy: true, reportedAt: ago(1), details: null };
  const m = compileObserved(['fra', 'iad'], [loadOnly, agent('edge:iad', 'iad', 2)], now, 30_000);
  assert.deepEqual(m.get('fra'), {
    reportedAt: null,
    healthy: false,
    problems: ['no agent has reported'],
    exported: null,
  });
  assert.deepEqual(m.get('iad'), {
    reportedAt: ago(2).toISOString(),
    healthy: true,
    problems: [],
    exported: ['198.18.0.0/20'],
  });
});

test('exports count only on established sessions; an unreadable speaker exports nothing known', () => {
  const m = compileObserved(
    ['fra', 'iad'],
    [
      agent('edge:fra', 'fra', 1, { established: false }),
      agent('edge:iad', 'iad', 1, { exported: null, healthy: false }),
    ],
    now,
    30_000,
  );
  assert.deepEqual(m.get('fra')?.exported, []);
  assert.equal(m.get('iad')?.exported, null);
  assert.equal(m.get('iad')?.healthy, false);
});

test('several agents of one edge: the recent ones combine, a silent one is left out', () => {
  const rows = [
    agent('edge:fra-a', 'fra', 2, { exported: ['198.18.0.0/20'] }),
    agent('edge:fra-b', 'fra', 3, { exported: ['198.18.1.0/24'], healthy: false, problems: ['check www down'] }),
    agent('edge:fra-old', 'fra', 600, { exported: [], healthy: false, problems: ['gone'] }),
  ];
  assert.deepEqual(compileObserved(['fra'], rows, now, 30_000).get('fra'), {
    reportedAt: ago(2).toISOString(),
    healthy: false,
    problems: ['check www down'],
    exported: ['198.18.0.0/20', '198.18.1.0/24'],
  });
  // All silent: the latest report stands (and observedHealth finds it too old).
  assert.equal(
    compileObserved(['fra'], rows, new Date(now.getTime() + 3_600_000), 30_000).get('fra')?.reportedAt,
    ago(2).toISOString(),
  );
});
