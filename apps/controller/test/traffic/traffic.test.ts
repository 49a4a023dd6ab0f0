import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createToken, startApi } from '@catchment/api';
import { promQuery } from '@catchment/core';
import {
  ANYCAST,
  ANYCAST6,
  byEdge,
  byOutcome,
  type ConnectionRecord,
  catalogueIntents,
  edgeByBlock,
  LAB_EDGES,
  SUPERNET,
  TRANSITS,
  Traffic,
  TrafficLab,
} from '@catchment/testkit/traffic-lab';
import { until } from '@catchment/testkit/wait';
import { addPlaybook } from '@catchment/testkit/world';
import { buildBpf } from '../../../edge/src/xdp/index.ts';

/**
 * Traffic truth: real clients in namespaces resolve the service through an ECS-sending
 * unbound and connect to real HTTP servers on the edges, over two BIRD transits; every
 * assertion is about what the connections did. One lab for the whole file.
 */
let lab: TrafficLab;

function summary(records: ConnectionRecord[]): string {
  return JSON.stringify({ edges: byEdge(records), outcomes: byOutcome(records) });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Short probes from `region` until `pred` holds on what they did (bounded). */
async function settle(
  what: string,
  region: string,
  opts: Partial<Parameters<typeof Traffic.start>[2]>,
  pred: (records: ConnectionRecord[]) => boolean,
  ms = 30_000,
): Promise<ConnectionRecord[]> {
  let last: ConnectionRecord[] = [];
  return until(
    what,
    async () => {
      last = await drive(region, { rate: 30, durationMs: 500, ...opts });
      return pred(last) ? last : false;
    },
    ms,
    100,
  ).catch((e: Error) => {
    throw new Error(`${e.message}; last probe ${summary(last)}\n${lab.logs()}`);
  });
}

const post = (path: string, body: Record<string, unknown> = {}) =>
  lab.call('POST', path, { reason: 'traffic test', ...body });
const only = (edge: string) => (r: ConnectionRecord[]) => r.length > 0 && r.every((x) => x.edge === edge);

async function drive(region: string, opts: Parameters<typeof Traffic.start>[2]): Promise<ConnectionRecord[]> {
  return Traffic.start(lab.net, region, opts).done();
}

describe('traffic lab', { concurrency: false }, () => {
  before(async () => {
    const bpf = await buildBpf();
    lab = await TrafficLab.start({ api: { startApi, createToken }, bpf });
  });
  after(async () => {
    await lab?.stop();
  });

  test('steady state: each region lands at its nearest edge, answers follow ECS', async () => {
    const expected: Record<string, string> = { de: 'fra', gb: 'lhr', us: 'iad', br: 'gru' };
    const runs = await Promise.all(
      Object.keys(expected).map(
        async (region) => [region, await drive(region, { rate: 20, durationMs: 2000 })] as const,
      ),
    );
    for (const [region, records] of runs) {
      const edges = byEdge(records);
      assert.ok(records.length >= 30, `${region}: ${summary(records)}`);
      assert.deepEqual(edges, { [expected[region]!]: records.length }, `${region}: ${summary(records)}`);
      assert.deepEqual(byOutcome(records), { completed: records.length });
    }
    // The anycast address: each region lands where its transit's best path leads.
    const anycast: Record<string, string> = { de: 'fra', gb: 'fra', us: 'iad', br: 'iad' };
    const any = await Promise.all(
      Object.keys(anycast).map(
        async (region) => [region, await drive(region, { rate: 20, durationMs: 1000, target: ANYCAST })] as const,
      ),
    );
    for (const [region, records] of any) {
      assert.deepEqual(
        byEdge(records),
        { [anycast[region]!]: records.length },
        `${region} anycast: ${summary(records)}`,
      );
    }
  });

  test("IPv6: each region's AAAA answer (ECS from its /48) leads to its edge; withdrawing lhr's /48 moves gb's IPv6 clients to fra", async () => {
    const expected: Record<string, string> = { de: 'fra', gb: 'lhr', us: 'iad', br: 'gru' };
    const address6 = Object.fromEntries(LAB_EDGES.map((e) => [e.name, e.address6]));
    const runs = await Promise.all(
      Object.keys(expected).map(
        async (region) => [region, await drive(region, { rate: 20, durationMs: 1000, family: 6 })] as const,
      ),
    );
    for (const [region, records] of runs) {
      const edge = expected[region]!;
      assert.ok(records.length >= 15, `${region} over IPv6: ${summary(records)}`);
      assert.deepEqual(byEdge(records), { [edge]: records.length }, `${region} over IPv6: ${summary(records)}`);
      assert.ok(
        records.every((r) => r.dst === address6[edge] && r.src.includes(':')),
        `${region}: IPv6 from its /48s to ${address6[edge]}`,
      );
      assert.deepEqual(byOutcome(records), { completed: records.length });
    }
    const anycast = await drive('us', { rate: 20, durationMs: 500, family: 6, target: ANYCAST6 });
    assert.ok(only('iad')(anycast), `us on the IPv6 anycast address: ${summary(anycast)}`);

    const lhr = LAB_EDGES.find((e) => e.name === 'lhr')!;
    const v6 = { family: 6, target: lhr.address6 } as const;
    await post(`/v1/prefixes/${encodeURIComponent(lhr.unicast6)}/withdraw`);
    try {
      // The /48 gone, lhr's address follows the IPv6 supernet: fra for the regions behind A.
      const gb = await settle("gb's IPv6 connections to lhr's address land at fra", 'gb', v6, only('fra'));
      const us = await settle('us lands at iad', 'us', v6, only('iad'));
      assert.ok(!(await lab.net.birdShow('transit-a', lhr.unicast6)).includes(lhr.unicast6));
      // IPv4 is another announcement: lhr still serves its IPv4 address.
      assert.ok(only('lhr')(await drive('gb', { rate: 20, durationMs: 500, target: lhr.address })));
      console.log(`withdraw ${lhr.unicast6}: gb ${summary(gb)}, us ${summary(us)}`);
    } finally {
      await post(`/v1/prefixes/${encodeURIComponent(lhr.unicast6)}/restore`);
    }
    await settle("lhr's IPv6 address back at lhr", 'gb', v6, only('lhr'));
  });

  test("DNS shift 50 %: about half of fra's client blocks move, the rest stay", async () => {
    const de = lab.net.region('de');
    // One named target: without one, the shift goes to the nearest edges with headroom, and a
    // load report published meanwhile may move a block from one target to the other (correct,
    // but not what this scenario measures).
    await post('/v1/edges/fra/shift', { params: { percent: 50, targets: ['iad'] } });
    try {
      const moved = (recs: ConnectionRecord[]) => [...edgeByBlock(recs)].filter(([, e]) => e !== 'fra');
      await settle('the shift shows in new connections', 'de', {}, (r) => moved(r).length > 0);
      // Every block four times: a block's connections all go to one edge, half of the blocks elsewhere.
      const records = await drive('de', { rate: 64, durationMs: 2000 });
      const perBlock = new Map<string, Set<string>>();
      for (const r of records) perBlock.set(r.src, (perBlock.get(r.src) ?? new Set()).add(r.edge));
      assert.equal(perBlock.size, de.sources.length, summary(records));
      for (const [block, edges] of perBlock) assert.equal(edges.size, 1, `${block} answered by ${[...edges]}`);
      const share = moved(records).length / de.sources.length;
      console.log(`dns shift 50 %: ${moved(records).length}/${de.sources.length} blocks moved; ${summary(records)}`);
      assert.ok(share >= 0.3 && share <= 0.7, `share of blocks moved ${share}`);
      assert.deepEqual(byOutcome(records), { completed: records.length });
      // Other regions are untouched.
      assert.ok(only('lhr')(await drive('gb', { rate: 20, durationMs: 500 })));
    } finally {
      // Undone whatever happened: the scenarios after this one start from no shift.
      await post('/v1/edges/fra/unshift');
    }
    await settle('every block back at fra', 'de', { rate: 64, durationMs: 600 }, only('fra'));
  });

  test("withdrawing lhr's unicast /24: new connections land at the supernet's announcers, broken ones are counted", async () => {
    const lhr = LAB_EDGES.find((e) => e.name === 'lhr')!;
    // The earlier scenarios loaded fra near its threshold; as an operator would, wait until the
    // dry run says the supernet's announcers can take lhr's load (the capacity rule), then withdraw.
    const withdraw = `/v1/prefixes/${encodeURIComponent(lhr.unicast)}/withdraw`;
    await until('the withdrawal passes its dry run', async () => {
      const plan = await post(withdraw, { dryRun: true });
      return (plan as { refusal: unknown }).refusal === null;
    });
    // Downloads established at lhr before the withdrawal (2 MB at about 0.8 MB/s each).
    const established = Traffic.start(lab.net, 'gb', {
      rate: 6,
      durationMs: 1500,
      maxConnections: 6,
      target: lhr.address,
      longEvery: 1,
      longBytes: 2 * 1024 * 1024,
      longChunkMs: 20,
      timeoutMs: 2000,
    });
    await established.openedAtLeast(6);
    await post(withdraw);
    const gb = await settle("gb reaches lhr's address at fra", 'gb', { target: lhr.address }, only('fra'));
    const us = await settle('us reaches it at iad', 'us', { target: lhr.address }, only('iad'));
    const old = await established.done();
    const broken = old.filter((r) => r.outcome !== 'completed');
    console.log(
      `withdraw ${lhr.unicast}: new gb ${summary(gb)}, new us ${summary(us)}; established ${old.length}, broken ${broken.length} ${JSON.stringify(byOutcome(old))}`,
    );
    assert.equal(old.length, 6);
    assert.ok(
      old.every((r) => r.edge === 'lhr'),
      summary(old),
    );
    // The established downloads lost their edge mid-transfer: the driver counts each.
    assert.ok(broken.length > 0, summary(old));
    assert.ok(broken.every((r) => r.outcome === 'reset' || r.outcome === 'timeout'));
    await post(`/v1/prefixes/${encodeURIComponent(lhr.unicast)}/restore`);
    await settle("lhr's address back at lhr", 'gb', { target: lhr.address }, only('lhr'));
  });

  test('communities towards transit A only: the anycast catchment of the regions behind A moves, B is untouched', async () => {
    const [a, b] = TRANSITS;
    const lower = catalogueIntents(a!, b!.asn)['lower-local-pref']!;
    await post('/v1/edges/fra/communities', {
      params: { communities: lower, prefix: '198.18.0.0/20', transit: 'transit-a' },
    });
    const de = await settle("de's anycast connections move to iad", 'de', { target: ANYCAST }, only('iad'));
    const gb = await drive('gb', { rate: 20, durationMs: 500, target: ANYCAST });
    assert.ok(only('iad')(gb), summary(gb));
    // Transit B still has fra's supernet route without A's values: only A's session carried them.
    const atB = await lab.net.birdShow('transit-b', 'all 198.18.0.0/20 protocol cust_fra');
    const atA = await lab.net.birdShow('transit-a', 'all 198.18.0.0/20 protocol cust_fra');
    assert.match(atA, /\(64500,\s?70\)/, atA);
    assert.match(atB, /BGP.as_path/, atB);
    assert.doesNotMatch(atB, /\(64500,\s?70\)/, atB);
    console.log(`communities ${lower} to transit-a on fra: de ${summary(de)}, gb ${summary(gb)}`);
    await post('/v1/edges/fra/clear-communities');
    await settle('de back at fra', 'de', { target: ANYCAST }, only('fra'));
  });

  test("communities: prepend 1x towards transit B on iad's supernet: the regions behind B land at fra, A is untouched", async () => {
    const [a, b] = TRANSITS;
    const prepend = catalogueIntents(b!, a!.asn)['prepend-1x']!;
    await settle('us lands at iad on anycast', 'us', { target: ANYCAST }, only('iad'));
    await post('/v1/edges/iad/communities', {
      params: { communities: prepend, prefix: SUPERNET, transit: 'transit-b' },
    });
    // B ranks fra's link (its backup, higher MED) below iad's only while the paths are as long.
    const us = await settle("us's anycast connections move to fra", 'us', { target: ANYCAST }, only('fra'));
    const br = await drive('br', { rate: 20, durationMs: 500, target: ANYCAST });
    const de = await drive('de', { rate: 20, durationMs: 500, target: ANYCAST });
    assert.ok(only('fra')(br), summary(br));
    assert.ok(only('fra')(de), summary(de));
    // The prepend is B's doing on iad's session: A's path from iad stays one AS long.
    const atB = await lab.net.birdShow('transit-b', `all ${SUPERNET} protocol cust_iad`);
    const atA = await lab.net.birdShow('transit-a', `all ${SUPERNET} protocol cust_iad`);
    assert.match(atB, /BGP\.as_path: 65010 65010\s*$/m, atB);
    assert.match(atA, /BGP\.as_path: 65010\s*$/m, atA);
    assert.doesNotMatch(atA, /\(64501,\s?2001\)/, atA);
    console.log(`prepend ${prepend} to transit-b on iad: us ${summary(us)}, br ${summary(br)}, de ${summary(de)}`);
    await post('/v1/edges/iad/clear-communities');
    await settle('us back at iad', 'us', { target: ANYCAST }, only('iad'));
  });

  test("communities: no-export to transit B on lhr's /24: us reaches lhr's address at iad (the supernet), gb still at lhr", async () => {
    const [a, b] = TRANSITS;
    const lhr = LAB_EDGES.find((e) => e.name === 'lhr')!;
    const noExport = catalogueIntents(a!, b!.asn)[`no-export-to-${b!.asn}`]!;
    // Before: B carries lhr's /24, learnt from its peer A.
    await settle("us reaches lhr's address at lhr through A", 'us', { target: lhr.address }, only('lhr'));
    await post('/v1/edges/lhr/communities', {
      params: { communities: noExport, prefix: lhr.unicast, transit: 'transit-a' },
    });
    const us = await settle(
      "us's connections to lhr's address land at iad",
      'us',
      { target: lhr.address },
      only('iad'),
    );
    const gb = await drive('gb', { rate: 20, durationMs: 500, target: lhr.address });
    assert.ok(only('lhr')(gb), summary(gb));
    assert.deepEqual(byOutcome(gb), { completed: gb.length });
    // A keeps the route (tagged), B has none: what moved us is A's export to its peer.
    const atA = await lab.net.birdShow('transit-a', `all ${lhr.unicast}`);
    const atB = await lab.net.birdShow('transit-b', lhr.unicast);
    assert.match(atA, /\(64500,\s?64501\)/, atA);
    assert.ok(!atB.includes(lhr.unicast), atB);
    console.log(`no-export ${noExport} on lhr via transit-a: us ${summary(us)}, gb ${summary(gb)}`);
    await post('/v1/edges/lhr/clear-communities');
    await settle("us back at lhr's address", 'us', { target: lhr.address }, only('lhr'));
  });

  /** One DSR round: shed 50 % of fra's new flows to iad, check, then turn it off with `off`. */
  async function dsrRound(
    label: string,
    shed: Record<string, unknown>,
    off: (expiresAt: number) => Promise<number>,
    bytes = 6 * 1024 * 1024,
  ) {
    const fra = LAB_EDGES.find((e) => e.name === 'fra')!;
    const downloads = (n: number, bytes: number) =>
      Traffic.start(lab.net, 'de', {
        rate: n,
        durationMs: 1500,
        maxConnections: n,
        target: fra.address,
        longEvery: 1,
        longBytes: bytes,
        longChunkMs: 20,
        timeoutMs: 3000,
      });
    // Established before the shedding: they must stay at fra.
    const before = downloads(4, 3 * 1024 * 1024);
    await before.openedAtLeast(4);
    const { action } = (await post('/v1/edges/fra/dsr', { params: { fraction: 0.5, targets: ['iad'] }, ...shed })) as {
      action: { expiresAt: string | null };
    };
    await settle(`${label}: some new connections served by iad`, 'de', { target: fra.address, rate: 40 }, (r) =>
      r.some((x) => x.edge === 'iad'),
    );
    // About 7 s each (by default): still running when DSR goes off.
    const during = downloads(8, bytes);
    const shortRecs = await drive('de', { rate: 60, durationMs: 2000, target: fra.address });
    const share = (byEdge(shortRecs).iad ?? 0) / shortRecs.length;
    const offAt = await off(action.expiresAt ? Date.parse(action.expiresAt) : 0);
    const after = await settle(
      `${label}: new connections at fra again`,
      'de',
      { target: fra.address, rate: 40 },
      only('fra'),
    );
    const [b, d] = await Promise.all([before.done(), during.done()]);
    console.log(
      `${label}: new ${summary(shortRecs)} (share at iad ${share.toFixed(2)}); established before ${summary(b)}; redirected downloads ${summary(d)}; after ${summary(after)}`,
    );
    assert.ok(share > 0.3 && share < 0.7, `${label}: share shed ${share}`);
    assert.deepEqual(byOutcome(shortRecs), { completed: shortRecs.length });
    assert.deepEqual(byEdge(b), { fra: 4 }, `${label}: established connections stay at fra`);
    assert.deepEqual(byOutcome(b), { completed: 4 });
    assert.equal(d.length, 8);
    assert.ok(
      d.some((r) => r.edge === 'iad' && r.end > offAt + 500),
      `${label}: some redirected downloads still ran when DSR went off: ${summary(d)}`,
    );
    assert.deepEqual(byOutcome(d), { completed: 8 }, `${label}: every redirected download finished after DSR went off`);
  }

  test('DSR 50 % with IP-in-IP, turned off by an operator (undsr): redirected downloads finish', async () => {
    await dsrRound('dsr ipip, undsr', {}, async () => {
      await post('/v1/edges/fra/undsr');
      return Date.now();
    });
  });

  test('DSR 50 % with GUE, turned off by expiry: redirected downloads finish', async () => {
    const fra = await lab.call<Record<string, unknown>>('GET', '/v1/edges/fra');
    delete fra.id;
    await lab.call('PUT', '/v1/edges/fra', { ...fra, dsr: { encap: 'gue', guePort: 6080 } });
    try {
      // Downloads of about 15 s: they outlive the action.
      await dsrRound(
        'dsr gue, expiry',
        { ttl: '8s' },
        async (expiresAt) => {
          await sleep(Math.max(0, expiresAt - Date.now()));
          return expiresAt;
        },
        12 * 1024 * 1024,
      );
    } finally {
      await lab.call('PUT', '/v1/edges/fra', fra);
    }
  });

  test("load spreading by watermarks: as fra's load rises between them a growing share of de's blocks moves, each block to one edge", async () => {
    const fra = await lab.call<Record<string, unknown>>('GET', '/v1/edges/fra');
    // A wide band (of fra's 0.85 threshold, 60 rps capacity): nothing moves under 25.5 rps, and
    // the share grows up to 46 rps, solved from the demand: about 17 % of the blocks at 35 rps,
    // 35 % at 50 rps (design.md, watermarkShare).
    await lab.call('PUT', '/v1/edges/fra', { ...fra, watermarks: { low: 0.5, high: 0.9 } });
    const percent = async () => {
      const snap = await lab.call<{ body: { edges: { name: string; watermarks?: { percent: number } }[] } }>(
        'GET',
        '/v1/snapshot',
      );
      return snap.body.edges.find((e) => e.name === 'fra')?.watermarks?.percent ?? 0;
    };
    const load = Traffic.start(lab.net, 'de', { rate: 10, durationMs: 120_000 });
    /**
     * de's blocks answered elsewhere by the connections of a window of `ms` in which the published
     * share did not change (one that changed, as a load publication may, is measured again): within
     * it, each block is answered by one edge.
     */
    const movedBlocks = async (ms: number) => {
      for (let attempt = 0; ; attempt++) {
        const before = await percent();
        await sleep(2000); // answers published just before the window leave the 1 s caches
        const since = Date.now();
        await sleep(ms);
        if ((await percent()) !== before && attempt < 4) continue;
        const perBlock = new Map<string, Set<string>>();
        for (const o of load.opened.filter((x) => x.t >= since && x.edge))
          perBlock.set(o.src, (perBlock.get(o.src) ?? new Set()).add(o.edge));
        for (const [block, edges] of perBlock)
          assert.equal(edges.size, 1, `${block} answered by ${[...edges]} at ${before} %`);
        return new Set([...perBlock].filter(([, e]) => !e.has('fra')).map(([block]) => block));
      }
    };
    /** Waits until the published share holds still (two load publications alike), then DNS caches turn over. */
    const settled = async (what: string, pred: (p: number) => boolean) => {
      let last = -1;
      await until(
        what,
        async () => {
          const p = await percent();
          const stable = pred(p) && Math.abs(p - last) < 3;
          last = p;
          return stable;
        },
        60_000,
        5000,
      );
      return last;
    };
    try {
      const low = await settled('at 10 rps, under the low watermark, nothing moves', (p) => p === 0);
      assert.deepEqual([...(await movedBlocks(3000))], [], 'every de block at fra');
      load.setRate(35);
      const mid = await settled('at 35 rps a share moves', (p) => p > 0);
      const some = await movedBlocks(4000);
      load.setRate(50);
      const high = await settled('at 50 rps a larger share', (p) => p > mid);
      const more = await movedBlocks(4000);
      console.log(
        `watermarks: ${low} % at 10 rps, ${mid} % at 35 rps (${some.size} of 32 de blocks moved), ${high} % at 50 rps (${more.size} moved)`,
      );
      assert.ok(some.size > 0, 'some blocks moved at 35 rps');
      assert.ok(more.size > some.size, `more blocks moved at 50 rps: ${some.size} then ${more.size}`);
      // Stable per block: the blocks moved at the lower share are still moved at the higher one.
      assert.deepEqual(
        [...some].filter((b) => !more.has(b)),
        [],
        'a moved block stays moved while the share grows',
      );
      load.setRate(10);
      await settled('back under the low watermark', (p) => p === 0);
      assert.deepEqual([...(await movedBlocks(3000))], [], 'every block back at fra');
      load.stop();
      const records = await load.done();
      assert.deepEqual(byOutcome(records), { completed: records.length }, 'no connection broke');
    } finally {
      load.kill();
      await lab.call('PUT', '/v1/edges/fra', fra);
    }
  });

  test('the whole playbook from a real overload: escalates until fra is relieved, undoes every step, DSR breaks nothing', async () => {
    const fra = LAB_EDGES.find((e) => e.name === 'fra')!;
    const threshold = 0.9 * lab.capacity.fra!;
    const step = { verify: { within: '3s' }, dwell: '2s' };
    await addPlaybook(lab.database.db, {
      name: 'shed-overloaded-edge',
      mode: 'auto',
      trigger: { alert: { alertname: 'EdgeOverloaded' } },
      steps: [
        { kind: 'dns-shift', schedule: [25], ...step },
        { kind: 'dsr-shed', fraction: 0.5, targets: ['iad'], ...step },
        { kind: 'withdraw-unicast', ...step },
        { kind: 'communities', transit: 'transit-a', intents: ['lower-local-pref'], ...step },
      ],
    });
    const served = async () =>
      (await promQuery(lab.monitoring.prometheusUrl, `rate(catchment_lab_http_requests_total{edge="fra"}[3s])`))[0]
        ?.value ?? 0;
    // de's clients: half follow DNS, half keep connecting to fra's address (a stale cache, a
    // hard-coded address); every tenth a long download.
    const base = { durationMs: 90_000, longEvery: 10, longBytes: 2 * 1024 * 1024, longChunkMs: 20, timeoutMs: 3000 };
    const dnsClients = Traffic.start(lab.net, 'de', { rate: 10, ...base });
    const fixedClients = Traffic.start(lab.net, 'de', { rate: 10, target: fra.address, ...base });
    try {
      await sleep(2000);
      const overloadAt = Date.now();
      dnsClients.setRate(45);
      fixedClients.setRate(45);
      await until("fra's served rate crosses the threshold", async () => (await served()) > threshold, 20_000, 250);
      const run = await until(
        'a run starts',
        async () => (await lab.call<{ items: { id: number }[] }>('GET', '/v1/runs')).items[0],
        20_000,
        250,
      );
      await until(
        'fra relieved: its served rate under the threshold with a step applied',
        async () => (await served()) < threshold * 0.9,
        40_000,
        250,
      ).catch(async (e: Error) => {
        throw new Error(`${e.message}\n${JSON.stringify(await lab.call('GET', `/v1/runs/${run.id}`))}`);
      });
      const reliefAt = Date.now();
      const during = await lab.call<{ steps: { kind: string; state: string }[] }>('GET', `/v1/runs/${run.id}`);
      // The overload ends.
      dnsClients.setRate(10);
      fixedClients.setRate(10);
      const end = await until(
        'the run undid every step and ended',
        async () => {
          const r = await lab.call<{ state: string; steps: { kind: string; state: string }[] }>(
            'GET',
            `/v1/runs/${run.id}`,
          );
          return r.state === 'resolved' ? r : false;
        },
        60_000,
        500,
      ).catch(async (e: Error) => {
        throw new Error(`${e.message}\n${JSON.stringify(await lab.call('GET', `/v1/runs/${run.id}`))}`);
      });
      await sleep(1500);
      dnsClients.stop();
      fixedClients.stop();
      const records = [...(await dnsClients.done()), ...(await fixedClients.done())];
      const applied = [...new Set(during.steps.map((s) => s.kind))];
      const active = await lab.call<{ items: { active: boolean }[] }>('GET', '/v1/actions');
      // Redirected by DSR: connections to fra's address that iad served.
      const redirected = records.filter((r) => r.dst === fra.address && r.edge === 'iad');
      const broken = records.filter((r) => r.outcome !== 'completed');
      console.log(
        `playbook: relief ${((reliefAt - overloadAt) / 1000).toFixed(1)} s after the overload began, steps applied ${applied.join(', ')}; ` +
          `${records.length} connections ${summary(records)}; redirected by DSR ${redirected.length} (${JSON.stringify(byOutcome(redirected))}); ` +
          `broken ${broken.length} (${JSON.stringify(byEdge(broken))}, ${JSON.stringify(byOutcome(broken))}); final steps ${end.steps.map((s) => `${s.kind}:${s.state}`).join(' ')}`,
      );
      assert.deepEqual(broken.slice(0, 5), [], 'no connection broke');
      assert.ok(applied.includes('dns-shift'), applied.join());
      assert.ok(
        active.items.every((a) => !a.active),
        'every step undone',
      );
      if (applied.includes('dsr-shed')) assert.ok(redirected.length > 0, 'DSR redirected connections');
      assert.ok(
        redirected.every((r) => r.outcome === 'completed'),
        `connections redirected by DSR all finished: ${JSON.stringify(byOutcome(redirected))}`,
      );
      // With everything undone, de's new connections are at fra again.
      assert.ok(only('fra')(await drive('de', { rate: 30, durationMs: 1000 })));
    } finally {
      dnsClients.kill();
      fixedClients.kill();
    }
  });
});
