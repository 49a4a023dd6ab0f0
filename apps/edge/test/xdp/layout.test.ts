import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { before, describe, test } from 'node:test';
import {
  COUNTER_NAMES,
  Config,
  decodeStruct,
  encodeStruct,
  FlowKey,
  layoutOf,
  MAPS,
  type MapDef,
  STRUCTS,
  type StructDef,
} from '../../src/xdp/layout.ts';
import { buildBpf } from '../../src/xdp/object.ts';

/**
 * The TypeScript layouts against the C structs, through the BTF that clang writes into
 * the object: struct names and sizes, member names, byte offsets, array lengths, element
 * types (including network byte order), and every map's type, size, key and value.
 */
interface BtfType {
  id: number;
  kind: string;
  name: string;
  size?: number;
  type_id?: number;
  nr_elems?: number;
  members?: Array<{ name: string; type_id: number; bits_offset: number }>;
}

let types = new Map<number, BtfType>();

function resolve(id: number): { t: BtfType; typedefs: string[] } {
  const typedefs: string[] = [];
  let t = types.get(id)!;
  while (t.kind === 'TYPEDEF' || t.kind === 'CONST' || t.kind === 'VOLATILE') {
    if (t.kind === 'TYPEDEF') typedefs.push(t.name);
    t = types.get(t.type_id!)!;
  }
  return { t, typedefs };
}

const BPF_MAP_TYPE: Record<string, number> = { hash: 1, array: 2, percpu_array: 6, lru_hash: 9, lpm_trie: 11 };

function checkElement(where: string, type: StructDef['fields'][number]['type'], id: number) {
  const { t, typedefs } = resolve(id);
  if (typeof type !== 'string') {
    assert.equal(t.kind, 'STRUCT', where);
    assert.equal(t.name, type.name, where);
    return;
  }
  assert.equal(t.kind, 'INT', where);
  assert.equal(t.size, { u8: 1, u16: 2, u32: 4, u64: 8, be16: 2, be32: 4 }[type], `${where}: size`);
  const be = typedefs.some((n) => n.startsWith('__be'));
  assert.equal(be, type.startsWith('be'), `${where}: byte order (${typedefs.join(' → ') || t.name})`);
}

describe('map layouts agree with the C structs (BTF)', () => {
  before(async () => {
    const { dsr } = await buildBpf();
    const btf = JSON.parse(execFileSync('bpftool', ['-j', 'btf', 'dump', 'file', dsr], { encoding: 'utf8' })) as {
      types: BtfType[];
    };
    types = new Map(btf.types.map((t) => [t.id, t]));
  });

  for (const def of STRUCTS) {
    test(`struct ${def.name}`, () => {
      const btf = [...types.values()].find((t) => t.kind === 'STRUCT' && t.name === def.name);
      assert.ok(btf, `struct ${def.name} is in the object's BTF`);
      const layout = layoutOf(def);
      assert.equal(layout.size, btf.size, 'size');
      assert.deepEqual(
        layout.fields.map((f) => f.def.name),
        btf.members!.map((m) => m.name),
        'members',
      );
      layout.fields.forEach((f, i) => {
        const m = btf.members![i]!;
        const where = `${def.name}.${f.def.name}`;
        assert.equal(f.offset, m.bits_offset / 8, `${where}: offset`);
        const { t } = resolve(m.type_id);
        if (f.def.count !== undefined) {
          assert.equal(t.kind, 'ARRAY', where);
          assert.equal(t.nr_elems, f.def.count, `${where}: length`);
          checkElement(where, f.def.type, t.type_id!);
        } else {
          checkElement(where, f.def.type, m.type_id);
        }
      });
    });
  }

  for (const def of Object.values(MAPS) as MapDef[]) {
    test(`map ${def.name}`, () => {
      const v = [...types.values()].find((t) => t.kind === 'VAR' && t.name === def.name);
      assert.ok(v, `map ${def.name} is defined`);
      const spec = resolve(v.type_id!).t;
      const member = (name: string) => {
        const m = spec.members!.find((x) => x.name === name);
        assert.ok(m, `${def.name}.${name}`);
        return resolve(types.get(m.type_id)!.type_id!).t; // __uint/__type are pointers
      };
      assert.equal(member('type').nr_elems, BPF_MAP_TYPE[def.type], 'map type');
      assert.equal(member('max_entries').nr_elems, def.maxEntries, 'max_entries');
      for (const side of ['key', 'value'] as const) {
        const t = member(side);
        const want = def[side];
        if (want.name === 'u32') {
          assert.equal(t.kind, 'INT');
          assert.equal(t.size, 4);
        } else {
          assert.equal(t.name, want.name, `${def.name} ${side}`);
        }
      }
    });
  }

  test('counters are the struct members in order', () => {
    assert.equal(new Set(COUNTER_NAMES).size, COUNTER_NAMES.length);
  });

  test('encode and decode round-trip, network byte order where declared', () => {
    const key = encodeStruct(FlowKey, {
      src: [0, 0, 0xffff, 0x0a000001],
      dst: [1, 2, 3, 4],
      sport: 0x1234,
      dport: 80,
      proto: 6,
    });
    assert.equal(key.length, 40);
    assert.deepEqual([...key.subarray(8, 16)], [0, 0, 0xff, 0xff, 10, 0, 0, 1]);
    assert.deepEqual([...key.subarray(32, 37)], [0x12, 0x34, 0, 80, 6]);
    const cfg = encodeStruct(Config, {
      enabled: 1,
      fraction: 32768,
      targets: [{ addr: [0, 0, 0xffff, 1], weight_end: 3, family: 4 }],
    });
    const back = decodeStruct(Config, cfg);
    assert.equal(back.fraction, 32768);
    assert.deepEqual((back.targets as Array<Record<string, unknown>>)[0], {
      addr: [0, 0, 0xffff, 1],
      weight_end: 3,
      family: 4,
    });
  });
});
