/**
 * Routing benchmark (pnpm bench:routing):
 *  1. publication → transit RIB: time from publishing a snapshot to the change being in
 *     the transit BIRD's RIB, through the real path (API long-poll, SnapshotFollower,
 *     agent, BIRD configure, BGP UPDATE over a veth in network namespaces);
 *  2. reconcile time for 10, 100 and 1000 prefixes per edge: full apply from empty
 *     (render, bird -p, configure, read back), until the transit has every route, one
 *     change among N, and a no-op; GoBGP (CLI, one call per path) for comparison.
 * Options: ROUNDS (default 60) changes for 1.
 */
import { cpus } from 'node:os';
import { join } from 'node:path';
import { type SnapshotBody, SnapshotFollower } from '@catchment/core';
import {
  BirdSpeaker,
  birdCommand,
  type DesiredAnnouncement,
  GobgpSpeaker,
  parsePrefix,
  type Speaker,
  subnets,
} from '@catchment/routing';
import { startEdgeAgent } from '../apps/edge/src/index.ts';
import { BgpLab } from '../packages/testkit/src/bgp-lab.ts';
import { labWorld } from '../packages/testkit/src/lab-world.ts';
import { SnapshotApi } from '../packages/testkit/src/snapshot-api.ts';

const ROUNDS = Number(process.env.ROUNDS ?? 60);
process.env.CATCHMENT_LOG_LEVEL ??= 'warn';

function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1)))] ?? Number.NaN;
  return { n: s.length, median: q(0.5), p95: q(0.95), min: s[0] ?? Number.NaN, max: s[s.length - 1] ?? Number.NaN };
}
const fmt = (x: number) => `${x.toFixed(1)} ms`;

/** Like lab.waitFor, but polling every millisecond: for measuring, not just waiting. */
async function pollUntil(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await cond())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

async function transitHas(lab: BgpLab, check: (text: string) => boolean): Promise<boolean> {
  const lines = await birdCommand(lab.transit.socket, 'show route all');
  return check(lines.map((l) => l.text).join('\n'));
}

async function publicationLatency(): Promise<ReturnType<typeof stats>> {
  const lab = await BgpLab.create({ edges: ['fra', 'iad'] });
  const api = await SnapshotApi.start();
  try {
    const body: SnapshotBody = labWorld(['fra', 'iad'], ['fra', 'iad']);
    api.publish(body);
    const agents = [];
    for (const e of lab.edges) {
      agents.push(
        await startEdgeAgent({
          edge: e.name,
          speaker: new BirdSpeaker({ socket: e.socket, includeFile: e.includeFile, mainConfig: e.mainConfig }),
          follower: new SnapshotFollower({
            apiUrl: api.url,
            token: api.token,
            cacheFile: join(e.dir, 'snapshot.json'),
            waitSeconds: 30,
          }),
          http: false,
          reportIntervalMs: 0,
          reconcileCron: '0 0 * * * *',
        }),
      );
    }
    await lab.waitFor(async () => (await lab.transitView()).length === 8, 30_000, 'initial routes');
    const samples: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      // Alternate: withdraw fra's /24, announce it again with a new community.
      const withdraw = i % 2 === 0;
      const community = `64500:${1000 + i}`;
      body.announcements = withdraw
        ? [{ edge: 'fra', prefix: '198.18.1.0/24', state: 'withdrawn', communities: [], reason: `bench ${i}` }]
        : [
            {
              edge: 'fra',
              prefix: '198.18.1.0/24',
              state: 'announced',
              communities: [community],
              reason: `bench ${i}`,
            },
          ];
      const t0 = performance.now();
      api.publish(body);
      const deadline = t0 + 10_000;
      for (;;) {
        const seen = await transitHas(lab, (text) => {
          const has = text.includes('198.18.1.0/24');
          return withdraw ? !has : has && text.includes(`(64500,${1000 + i})`);
        });
        if (seen) break;
        if (performance.now() > deadline) throw new Error(`change ${i} never reached the transit`);
        await new Promise((r) => setTimeout(r, 1));
      }
      samples.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const a of agents) await a.stop();
    return stats(samples);
  } finally {
    await api.close();
    await lab.destroy();
  }
}

function prefixSet(n: number, community = '64500:100'): DesiredAnnouncement[] {
  // /26s of 198.18.0.0/15 (RFC 2544): 2048 of them, enough for 1000.
  return subnets(parsePrefix('198.18.0.0/15'), 26, 4096)
    .slice(0, n)
    .map((prefix) => ({
      prefix,
      kind: 'unicast' as const,
      state: 'announced' as const,
      communities: [{ kind: 'standard' as const, asn: 64500, value: Number(community.split(':')[1]) }],
      reason: null,
    }));
}

async function reconcileTimes(kind: 'bird' | 'gobgp-grpc' | 'gobgp-cli', sizes: number[]) {
  const out: Record<string, number | string>[] = [];
  for (const n of sizes) {
    const lab = await BgpLab.create({ edges: ['fra'] });
    try {
      const e = lab.edge('fra');
      let speaker: Speaker;
      if (kind === 'bird') {
        speaker = new BirdSpeaker({
          socket: e.socket,
          includeFile: e.includeFile,
          mainConfig: e.mainConfig,
          confirmTimeoutMs: 30_000,
        });
        await lab.waitFor(() => lab.sessionsUp(), 30_000, 'sessions');
      } else {
        const transport = kind === 'gobgp-cli' ? 'cli' : 'grpc';
        await lab.startEdgeGobgp('fra');
        speaker = new GobgpSpeaker({ target: lab.gobgpTarget('fra'), transport, confirmTimeoutMs: 30_000 });
        await lab.waitFor(async () => (await speaker.sessions()).every((s) => s.established), 30_000, 'sessions');
      }
      const set = prefixSet(n);
      const reps = kind === 'gobgp-cli' && n >= 1000 ? 1 : 5;
      const count = async (k: number) =>
        (await birdCommand(lab.transit.socket, 'show route count')).some((l) =>
          new RegExp(`^${k} of ${k} routes`).test(l.text),
        );
      const full: number[] = [];
      const transit: number[] = [];
      const one: number[] = [];
      const noop: number[] = [];
      let confirmed = true;
      for (let r = 0; r < reps; r++) {
        await speaker.apply([]);
        await lab.waitFor(() => count(0), 60_000, 'an empty transit RIB');
        let t0 = performance.now();
        confirmed &&= (await speaker.apply(set)).confirmed;
        full.push(performance.now() - t0);
        await pollUntil(() => count(n), 60_000, `${n} routes at the transit`);
        transit.push(performance.now() - t0);
        // One change among N: the first prefix gets another community.
        const changed = set.map((d, i) =>
          i === 0 ? { ...d, communities: [{ kind: 'standard' as const, asn: 64500, value: 7 + r }] } : d,
        );
        t0 = performance.now();
        await speaker.apply(changed);
        one.push(performance.now() - t0);
        t0 = performance.now();
        confirmed &&= !(await speaker.apply(changed)).changed;
        noop.push(performance.now() - t0);
      }
      out.push({
        speaker: kind,
        prefixes: n,
        runs: reps,
        'full apply, confirmed (median)': fmt(stats(full).median),
        'until all in transit RIB (median)': fmt(stats(transit).median),
        'one change among N (median)': fmt(stats(one).median),
        'no-op reconcile (median)': fmt(stats(noop).median),
        confirmed: String(confirmed),
      });
    } finally {
      await lab.destroy();
    }
  }
  return out;
}

/** Through the whole agent (snapshot → desired set → safety → BIRD → transit) at N prefixes per edge. */
async function agentAtScale(sizes: number[]) {
  const out: Record<string, number | string>[] = [];
  for (const n of sizes) {
    const lab = await BgpLab.create({ edges: ['fra'] });
    const api = await SnapshotApi.start();
    try {
      const e = lab.edge('fra');
      await lab.waitFor(() => lab.sessionsUp(), 30_000, 'sessions');
      const body = labWorld(['fra'], ['fra']);
      for (const d of prefixSet(n)) {
        body.prefixes.push({
          cidr: d.prefix.text,
          kind: 'unicast',
          edge: 'fra',
          announcers: ['fra'],
          supernet: null,
          communities: ['64500:100'],
        });
      }
      const agent = await startEdgeAgent({
        edge: 'fra',
        speaker: new BirdSpeaker({ socket: e.socket, includeFile: e.includeFile, mainConfig: e.mainConfig }),
        follower: new SnapshotFollower({ apiUrl: api.url, token: api.token, cacheFile: join(e.dir, 'snapshot.json') }),
        http: false,
        reportIntervalMs: 0,
        reconcileCron: '0 0 * * * *',
        maxPrefixesPerSession: n + 10,
      });
      const v4 = n + 2; // the /20, fra's /24 and the N /26s
      const count = async () =>
        (await birdCommand(lab.transit.socket, 'show route count')).some((l) =>
          new RegExp(`^${v4} of ${v4} routes`).test(l.text),
        );
      let t0 = performance.now();
      api.publish(body);
      await pollUntil(count, 60_000, `${v4} routes at the transit`);
      const full = performance.now() - t0;
      const changes: number[] = [];
      const target = prefixSet(n)[n - 1]?.prefix.text ?? '';
      for (let r = 0; r < 5; r++) {
        body.announcements = [
          { edge: 'fra', prefix: target, state: 'announced', communities: [`64500:${3000 + r}`], reason: 'bench' },
        ];
        t0 = performance.now();
        api.publish(body);
        await pollUntil(
          async () =>
            (await birdCommand(lab.transit.socket, `show route ${target} all`)).some((l) =>
              l.text.includes(`(64500,${3000 + r})`),
            ),
          30_000,
          'the community change at the transit',
        );
        changes.push(performance.now() - t0);
      }
      await agent.stop();
      out.push({
        prefixes: n,
        'publish → all N in transit RIB': fmt(full),
        'publish → one change in transit RIB (median of 5)': fmt(stats(changes).median),
      });
    } finally {
      await api.close();
      await lab.destroy();
    }
  }
  return out;
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`# routing benchmark: ${cpus().length} × ${cpu}, Node ${process.version}`);
const lat = await publicationLatency();
console.log(
  `publication → transit RIB over ${lat.n} changes: median ${fmt(lat.median)}, p95 ${fmt(lat.p95)}, min ${fmt(lat.min)}, max ${fmt(lat.max)}`,
);
console.log('through the agent (BIRD):');
console.table(await agentAtScale([10, 100, 1000]));
console.log('speaker reconcile:');
console.table([
  ...(await reconcileTimes('bird', [10, 100, 1000])),
  ...(await reconcileTimes('gobgp-grpc', [10, 100, 1000])),
  ...(await reconcileTimes('gobgp-cli', [10, 100, 1000])),
]);
