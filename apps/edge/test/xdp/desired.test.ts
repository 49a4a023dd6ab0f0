import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dsr, edge, snapshot } from '@catchment/testkit/dsr-snapshots';
import { desiredMaps } from '../../src/xdp/desired.ts';
import { Config, decodeStruct, ENCAP, encodeStruct, LpmKey, type StructValue } from '../../src/xdp/layout.ts';

/** The snapshot → map contents translation (pure; no kernel needed). */
const opts = { mtu: 1500, flowIdleSeconds: 300 };

describe('desired XDP maps from a snapshot', () => {
  test('shedding edge: weights become cumulative, targets of another family are skipped', () => {
    const s = snapshot(
      [edge('a', '10.0.0.1'), edge('b', '10.0.0.2'), edge('c', '10.0.0.3'), edge('d', 'fd00::4')],
      [
        dsr('a', {
          fraction: 16384,
          seed: 99,
          encap: 'gue',
          guePort: 7000,
          vips: [
            { address: '10.9.0.1', port: 80 },
            { address: 'fd00:9::1', port: 443 },
          ],
          targets: [
            { edge: 'b', address: '10.0.0.2', weight: 3 },
            { edge: 'd', address: 'fd00::4', weight: 5 },
            { edge: 'c', address: '10.0.0.3', weight: 1 },
          ],
          clientPrefixes: [{ cidr: '10.8.0.0/16', mode: 'never' }],
        }),
      ],
    );
    const d = desiredMaps(s.body, 'a', opts);
    const cfg = decodeStruct(Config, encodeStruct(Config, d.config));
    assert.equal(cfg.enabled, 1);
    assert.equal(cfg.fraction, 16384);
    assert.equal(cfg.seed, 99);
    assert.equal(cfg.encap, ENCAP.gue);
    assert.equal(cfg.gue_port, 7000);
    assert.equal(cfg.mtu, 1500);
    assert.equal(cfg.src_v4, 0x0a000001);
    assert.equal(cfg.target_count, 2);
    const targets = cfg.targets as StructValue[];
    assert.deepEqual(
      targets.slice(0, 2).map((t) => [t.addr, t.weight_end, t.family]),
      [
        [[0, 0, 0xffff, 0x0a000002], 3, 4],
        [[0, 0, 0xffff, 0x0a000003], 4, 4],
      ],
    );
    assert.equal(d.vips.size, 2);
    assert.equal(cfg.prefix_count, 1);
    const key = Buffer.from([...d.prefixes.keys()][0]!, 'hex');
    assert.equal(decodeStruct(LpmKey, key).prefixlen, 96 + 16);
    // Last bytes of the VIPs (1 and 1) set bit 1 of the first word.
    assert.deepEqual(cfg.vip_last_byte, [2n, 0n, 0n, 0n]);
    assert.deepEqual(d.summary.targets, ['b', 'c']);
    assert.equal(d.warnings.length, 1);
    assert.match(d.warnings[0]!, /family/);
  });

  test('receiving edge: peers are the edges shedding to it, enabled or not, with their GUE port', () => {
    const s = snapshot(
      [edge('a', '10.0.0.1'), edge('b', '10.0.0.2'), edge('x', '10.0.0.9')],
      [
        dsr('a', {
          enabled: false,
          encap: 'gue',
          guePort: 6081,
          targets: [{ edge: 'b', address: '10.0.0.2', weight: 1 }],
        }),
        dsr('x', { targets: [{ edge: 'a', address: '10.0.0.1', weight: 1 }] }),
      ],
    );
    const d = desiredMaps(s.body, 'b', opts);
    assert.deepEqual(d.summary.peers, ['a']);
    assert.equal(d.config.gue_port, 6081);
    assert.equal(d.config.enabled, 0);
    assert.equal(d.vips.size, 0);
  });

  test('bad addresses are reported and skipped, never thrown', () => {
    const s = snapshot(
      [edge('a', 'not-an-ip'), edge('b', '10.0.0.2')],
      [
        dsr('a', {
          vips: [{ address: '10.9.0.300', port: 80 }],
          targets: [{ edge: 'b', address: 'bogus', weight: 1 }],
          clientPrefixes: [{ cidr: '10.8.0.1/16', mode: 'always' }],
        }),
      ],
    );
    const d = desiredMaps(s.body, 'a', opts);
    assert.equal(d.config.enabled, 0);
    assert.equal(d.vips.size, 0);
    assert.equal(d.prefixes.size, 0);
    assert.ok(d.warnings.length >= 4, d.warnings.join('; '));
  });

  test('an edge without a dsr entry gets shedding off and no VIPs', () => {
    const s = snapshot([edge('a', '10.0.0.1')], []);
    const d = desiredMaps(s.body, 'a', opts);
    assert.equal(d.config.enabled, 0);
    assert.equal(d.vips.size, 0);
    assert.equal(d.peers.size, 0);
  });
});
