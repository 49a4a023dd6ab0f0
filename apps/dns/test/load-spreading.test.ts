import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { SnapshotEdge } from '@catchment/core';
import { parseNetwork, shiftPosition } from '@catchment/geo';
import { DB_MODES, freshPostgresUrl, type Stack, startStack, tempDir } from '@catchment/testkit';
import { cityRecord, writeMmdb } from '@catchment/testkit/mmdb-writer';
import { until } from '@catchment/testkit/wait';

const run = promisify(execFile);
const LHR = '198.18.4.10';
// 96 London /24s, each its own location, so each is one unit of moved clients.
const SUBNETS = Array.from({ length: 96 }, (_, i) => `81.${2 + (i >> 6)}.${(i & 63) * 4}.0/24`);
// lhr (config/demo.yaml): 30000 rps, threshold 0.85, so watermarks 0.68 and 0.8075 by default.
const LHR_CAPACITY = 30_000;

/** `dig +subnet` for every subnet (eight at a time), each bounded in time: subnet → first A. */
async function digAll(port: number): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < SUBNETS.length; i += 8) {
    const batch = SUBNETS.slice(i, i + 8);
    const replies = await Promise.all(
      batch.map((s) =>
        run(
          'dig',
          ['@127.0.0.1', '-p', String(port), 'www.example.net', 'A', `+subnet=${s}`, '+tries=1', '+time=3', '+short'],
          {
            timeout: 10_000,
          },
        ),
      ),
    );
    batch.forEach((s, j) => out.set(s, replies[j]!.stdout.trim().split('\n')[0] ?? ''));
  }
  return out;
}

/** The subnets whose position is below the share: the ones DNS answers elsewhere. */
function expectedMoved(percent: number): Set<string> {
  return new Set(
    SUBNETS.filter((s) => {
      const n = parseNetwork(s)!;
      return shiftPosition(n.bytes, n.length, { name: 'lhr' }) < percent / 100;
    }),
  );
}

for (const mode of DB_MODES) {
  describe(`DNS spreads an edge's clients by its reported load, with watermarks (${mode})`, {
    timeout: 300_000,
  }, () => {
    let dir: Awaited<ReturnType<typeof tempDir>>;
    let stack: Stack;
    let agentToken: string;
    const api = async (method: string, path: string, body?: unknown, token = stack.adminToken) => {
      const r = await fetch(`${stack.apiUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      // biome-ignore lint/suspicious/noExplicitAny: test bodies are read loosely
      return { status: r.status, body: (await r.json()) as any };
    };
    /** What lhr's agent does: POST /v1/reports with its load. */
    const reportLoad = async (rps: number) => {
      const r = await api(
        'POST',
        '/v1/reports',
        { consumer: 'edge:lhr', kind: 'edge', snapshotVersion: null, healthy: true, load: { rps } },
        agentToken,
      );
      assert.equal(r.status, 202, JSON.stringify(r.body));
    };
    const snapshot = async () => (await api('GET', '/v1/snapshot')).body;
    const lhrOf = (snap: { body: { edges: SnapshotEdge[] } }) => snap.body.edges.find((e) => e.name === 'lhr')!;
    /** Reports `rps`, waits (bounded) for a snapshot newer than `version` with it, then for DNS to answer by it. */
    const spreadAfter = async (version: number, rps: number) => {
      await reportLoad(rps);
      const snap = await until(
        `a load-only publication of lhr at ${rps} rps`,
        async () => {
          const s = await snapshot();
          return s.version > version && lhrOf(s).loadRps === rps ? s : undefined;
        },
        30_000,
      );
      const percent = lhrOf(snap).watermarks!.percent;
      const want = expectedMoved(percent);
      const got = await until(
        `DNS answers with ${percent} % of lhr's blocks moved`,
        async () => {
          const answers = await digAll(stack.dnsPort);
          const moved = new Set([...answers].filter(([, a]) => a !== LHR).map(([s]) => s));
          return [...want].every((s) => moved.has(s)) && moved.size === want.size ? { answers, moved } : undefined;
        },
        30_000,
        500,
      );
      return { snap, percent, ...got };
    };

    before(async () => {
      dir = await tempDir('catchment-spread-');
      const city = join(dir.path, 'city.mmdb');
      await writeFile(
        city,
        writeMmdb(SUBNETS.map((cidr, i) => ({ cidr, data: cityRecord('GB', 'EU', 51.5 + i / 1000, -0.1) }))),
      );
      stack = await startStack({
        env: {
          CATCHMENT_GEOIP_CITY: city,
          CATCHMENT_LOAD_PUBLISH_INTERVAL: '200ms',
          ...(mode === 'postgres' ? { DATABASE_URL: await freshPostgresUrl() } : {}),
        },
      });
      const token = await api('POST', '/v1/tokens', {
        name: `agent-lhr-${process.pid}`,
        role: 'agent',
        scope: 'edge:lhr',
      });
      assert.equal(token.status, 201, JSON.stringify(token.body));
      agentToken = token.body.token;
    });
    after(async () => {
      await stack?.stop();
      await dir?.remove();
    });

    it('moves a growing share of the clients as lhr fills, keeping the moved ones moved, with no operator change', async () => {
      const start = await until(
        'every London subnet on lhr',
        async () => {
          const a = await digAll(stack.dnsPort);
          return [...a.values()].every((x) => x === LHR) || undefined;
        },
        60_000,
        500,
      );
      assert.equal(start, true);
      const v0 = (await snapshot()).version;

      // Utilisation 0.8: between the watermarks (0.68 and 0.8075 with lhr's threshold 0.85).
      const first = await spreadAfter(v0, 24_000);
      const w1 = lhrOf(first.snap).watermarks!;
      assert.equal(w1.low, 0.8 * 0.85);
      assert.equal(w1.high, 0.95 * 0.85);
      assert.ok(first.percent >= 5 && first.percent < 50, `a share moves: ${first.percent} %`);
      assert.ok(first.moved.size > 0 && first.moved.size < SUBNETS.length, `${first.moved.size} subnets moved`);
      for (const s of first.moved) assert.ok(['198.18.1.10', '198.18.2.10'].includes(first.answers.get(s)!), s);

      // The same load again changes nothing DNS uses but the targets' weights: answers stay.
      const again = await digAll(stack.dnsPort);
      for (const s of SUBNETS) assert.equal(again.get(s) === LHR, !first.moved.has(s), `${s} kept its answer`);

      // Fuller: measured 25000 rps while 'percent' of its blocks were elsewhere.
      const second = await spreadAfter(first.snap.version, 25_000);
      const w2 = lhrOf(second.snap).watermarks!;
      assert.ok(second.percent > first.percent, `${second.percent} % > ${first.percent} %`);
      assert.ok(w2.demandRps! > 25_000, 'the demand counts the blocks already moved');
      assert.ok(second.moved.size > first.moved.size);
      for (const s of first.moved) assert.ok(second.moved.has(s), `${s} stays moved`);

      // explain shows the step, for a moved subnet and for one that stays.
      const movedOne = [...second.moved][0]!;
      const ex = await api('GET', `/v1/explain?name=www.example.net&client=${encodeURIComponent(movedOne)}`);
      assert.equal(ex.status, 200, JSON.stringify(ex.body));
      assert.equal(ex.body.decision.reason, 'watermark');
      const step = ex.body.decision.trace.find((t: { step: string }) => t.step === 'watermark');
      assert.match(
        step.detail,
        new RegExp(
          `^lhr at utilisation 0\\.83 \\(demand ${(w2.demandRps! / LHR_CAPACITY).toFixed(2)}\\), watermarks 0\\.68-0\\.81: ${second.percent}% of its client blocks move to the next-best edges; this block goes to (fra|iad)$`,
        ),
      );
      const stays = SUBNETS.find((s) => !second.moved.has(s))!;
      const exStays = await api('GET', `/v1/explain?name=www.example.net&client=${encodeURIComponent(stays)}`);
      assert.equal(exStays.body.decision.edge, 'lhr');
      assert.match(JSON.stringify(exStays.body.decision.trace), /this block stays/);

      // No action was created: the load reports alone did it.
      const actions = await api('GET', '/v1/actions?active=true');
      assert.deepEqual(actions.body.items, []);
    });

    it('gives the clients back as the load falls below the low watermark', async () => {
      const v = (await snapshot()).version;
      const back = await spreadAfter(v, 12_000);
      assert.equal(back.percent, 0);
      assert.equal(back.moved.size, 0);
    });
  });
}
