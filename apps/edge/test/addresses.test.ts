import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger, sealSnapshot } from '@catchment/core';
import { until } from '@catchment/testkit';
import { BgpLab } from '@catchment/testkit/bgp-lab';
import { dsr } from '@catchment/testkit/dsr-snapshots';
import { labWorld } from '@catchment/testkit/lab-world';
import { SnapshotApi } from '@catchment/testkit/snapshot-api';
import {
  type LocalAddress,
  localAddresses,
  missingAddresses,
  requiredAddresses,
  startEdgeAgent,
} from '../src/index.ts';

/**
 * An edge host must accept the service addresses that can reach it: its own, those inside an
 * anycast supernet it announces (another edge's, once that edge's /24 is withdrawn; the
 * anycast fallback answers), and those of edges that shed flows to it by DSR. The agent checks
 * that each is configured locally, at start and before each report.
 */
const addrs = (l: { address: string }[]) => l.map((r) => r.address);

describe('the addresses an edge must accept', () => {
  it('are its own, every service address its supernets cover, and the VIPs shed to it', () => {
    // fra and iad announce 198.18.0.0/20 and 2001:db8:100::/40; lhr announces only its own prefixes.
    const world = labWorld();
    const fra = requiredAddresses(sealSnapshot(1, world), 'fra');
    assert.deepEqual(addrs(fra), [
      '198.18.0.1',
      '198.18.1.10',
      '198.18.2.10',
      '198.18.3.10',
      '2001:db8:100::1',
      '2001:db8:101::10',
      '2001:db8:102::10',
      '2001:db8:103::10',
    ]);
    assert.deepEqual(fra.find((r) => r.address === '198.18.3.10')?.reasons, ['supernet 198.18.0.0/20']);
    assert.deepEqual(fra.find((r) => r.address === '198.18.1.10')?.reasons, ['own']);
    // lhr is no supernet announcer and no DSR target: only its own addresses.
    assert.deepEqual(addrs(requiredAddresses(sealSnapshot(1, world), 'lhr')), ['198.18.3.10', '2001:db8:103::10']);

    // lhr sheds to iad by DSR: iad must accept lhr's VIPs and its own DSR address (the tunnels' end).
    world.dsr = [
      dsr('lhr', {
        enabled: true,
        targets: [{ edge: 'iad', address: '198.18.0.11', weight: 1 }],
        vips: [{ address: '198.51.100.80', port: 443 }],
      }),
    ];
    const iad = requiredAddresses(sealSnapshot(2, world), 'iad');
    assert.deepEqual(iad.find((r) => r.address === '198.51.100.80')?.reasons, ['dsr from lhr']);
    // 198.18.0.11 is inside the /20 iad announces, but the DSR address is a reason of its own.
    assert.ok(iad.find((r) => r.address === '198.18.0.11')?.reasons.includes('dsr address'));
    assert.ok(!addrs(requiredAddresses(sealSnapshot(2, world), 'fra')).includes('198.51.100.80'));
  });

  it('are accepted on any interface, or inside a prefix on the loopback (AnyIP), and nowhere else', () => {
    const required = requiredAddresses(sealSnapshot(1, labWorld()), 'fra');
    const local: LocalAddress[] = [
      { iface: 'lo', cidr: '127.0.0.1/8' },
      // On eth0 a /24 makes only its own address local, not the block.
      { iface: 'eth0', cidr: '198.18.1.10/24' },
      { iface: 'dummy0', cidr: '198.18.2.10/32' },
      { iface: 'lo', cidr: '2001:db8:100::/40' },
    ];
    assert.deepEqual(addrs(missingAddresses(required, local)), ['198.18.0.1', '198.18.3.10']);
    // The whole IPv4 supernet on lo covers every v4 address too.
    assert.deepEqual(missingAddresses(required, [...local, { iface: 'lo', cidr: '198.18.0.0/20' }]), []);
  });

  it("read from this host's interfaces: the loopback's 127.0.0.0/8 is local, a documentation address is not", () => {
    const local = localAddresses();
    assert.ok(
      local.some((l) => l.iface === 'lo' && l.cidr === '127.0.0.1/8'),
      JSON.stringify(local),
    );
    const missing = missingAddresses(
      [
        { address: '127.0.0.53', reasons: ['own'] },
        { address: '192.0.2.201', reasons: ['own'] },
      ],
      local,
    );
    assert.deepEqual(addrs(missing), ['192.0.2.201']);
  });
});

describe('the edge agent', () => {
  it('reports the addresses it lacks in a metric, a warning and each report, and when they are there', async (t) => {
    const lab = await BgpLab.create({ edges: ['fra'] });
    t.after(() => lab.destroy());
    const api = await SnapshotApi.start();
    t.after(() => api.close());
    const world = labWorld(['fra', 'iad'], ['fra', 'iad']);
    api.publish(world);
    const logs: { level: number; text: string }[] = [];
    const logger = createLogger('edge', {
      level: 'info',
      hooks: {
        logMethod(args, _method, level) {
          logs.push({ level, text: JSON.stringify(args) });
        },
      },
    });
    // This host's real interfaces, plus what the test "configures" later.
    const extra: LocalAddress[] = [];
    const agent = await startEdgeAgent({
      ...lab.agentParts('fra', api),
      apiUrl: api.url,
      token: api.token,
      reportIntervalMs: 200,
      http: { host: '127.0.0.1', port: 0 },
      addressCheck: { local: () => [...localAddresses(), ...extra] },
      logger,
    });
    t.after(() => agent.stop());
    const required = requiredAddresses(sealSnapshot(1, world), 'fra');
    // The lab's addresses live in the lab's namespaces, never on this host.
    assert.deepEqual(missingAddresses(required, localAddresses()).length, required.length);

    const metric = async () => {
      const text = await (await fetch(`${agent.httpUrl}/metrics`)).text();
      return Number(/^catchment_edge_addresses_missing\{[^}]*\} (\d+)$/m.exec(text)?.[1]);
    };
    await until('the missing addresses in the metrics', async () => ((await metric()) === 6 ? true : undefined));
    const text = await (await fetch(`${agent.httpUrl}/metrics`)).text();
    assert.match(
      text,
      /catchment_edge_address_missing\{[^}]*address="198\.18\.2\.10"[^}]*reason="supernet 198\.18\.0\.0\/20"/,
    );
    const warnings = logs.filter((l) => l.level === 40 && l.text.includes('not configured on any local interface'));
    assert.equal(warnings.length, 1, 'one warning, not one per report');
    assert.match(warnings[0]!.text, /198\.18\.2\.10 \(supernet 198\.18\.0\.0\/20\)/);
    const lastReport = () =>
      (api.reports.at(-1)?.details as { missingAddresses?: { address: string }[] } | undefined)?.missingAddresses;
    await until('a report with the missing addresses', async () => (lastReport()?.length === 6 ? true : undefined));
    assert.deepEqual(
      agent.status().missingAddresses?.map((r) => r.address),
      addrs(required),
    );

    // The operator adds them (a dummy interface): the next report says none is missing.
    extra.push(
      ...required.map((r) => ({ iface: 'catchment0', cidr: `${r.address}/${r.address.includes(':') ? 128 : 32}` })),
    );
    await until('no missing address', async () =>
      (await metric()) === 0 && lastReport()?.length === 0 ? true : undefined,
    );
    assert.ok(logs.some((l) => l.level === 30 && l.text.includes('configured locally now')));
    assert.equal(logs.filter((l) => l.level === 40 && l.text.includes('not configured on any local')).length, 1);
  });
});
