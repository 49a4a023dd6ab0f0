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
    communities: { '198.18.0.0/20': [] },
    dsr: null,
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
    communities: { '198.18.0.0/20': [], '198.18.1.0/24': [] },
    dsr: null,
  });
  // All silent: the latest report stands (and observedHealth finds it too old).
  assert.equal(
    compileObserved(['fra'], rows, new Date(now.getTime() + 3_600_000), 30_000).get('fra')?.reportedAt,
    ago(2).toISOString(),
  );
});

test('communities: those on every established session exporting the prefix; DSR: in place on every agent', () => {
  const row = (
    name: string,
    sessions: { established: boolean; communities: string[] }[],
    dsr?: object,
  ): AgentReportRow => ({
    name,
    edge: 'fra',
    healthy: true,
    reportedAt: ago(1),
    details: {
      observed: {
        readable: true,
        healthy: true,
        problems: [],
        sessions: sessions.map((x, i) => ({
          name: `transit${i}`,
          established: x.established,
          exported: [{ prefix: '198.18.0.0/20', communities: x.communities }],
        })),
        appliers: dsr ? [{ name: 'xdp', ok: true, state: dsr }] : [],
      },
    },
  });
  const one = compileObserved(
    ['fra'],
    [
      row(
        'edge:fra',
        [
          { established: true, communities: ['64500:2002', '64500:100'] },
          { established: true, communities: ['64500:100'] },
          // A session that is down carries nothing, and takes nothing away.
          { established: false, communities: [] },
        ],
        { enabled: true, fraction: 16384 },
      ),
    ],
    now,
    30_000,
  ).get('fra');
  assert.deepEqual(one?.communities, { '198.18.0.0/20': ['64500:100'] });
  assert.deepEqual(one?.dsr, { enabled: true, fraction: 0.25 });
  // Two agents: the DSR state is in place only as far as both have it.
  const two = compileObserved(
    ['fra'],
    [
      row('edge:fra-a', [{ established: true, communities: ['64500:100'] }], { enabled: true, fraction: 16384 }),
      row('edge:fra-b', [{ established: true, communities: [] }], { enabled: false, fraction: 0 }),
    ],
    now,
    30_000,
  ).get('fra');
  assert.deepEqual(two?.communities, { '198.18.0.0/20': [] });
  assert.deepEqual(two?.dsr, { enabled: false, fraction: 0 });
});
