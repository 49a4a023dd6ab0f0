import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { SYSTEMD_UNITS, tempDir } from '@catchment/testkit';

/**
 * The systemd units of deploy/systemd, checked by systemd itself (`systemd-analyze verify`, which
 * needs the programs they run to exist: here a stand-in at a temporary path; release.test.ts
 * verifies them installed) and by what each part needs and may do.
 */
const run = promisify(execFile);
const PARTS = ['api', 'controller', 'dns', 'edge'] as const;

/** `systemd-analyze verify`: exit code and what it printed (it warns without failing on bad values). */
async function verify(files: string[]): Promise<{ code: number; stderr: string }> {
  try {
    const r = await run('systemd-analyze', ['verify', ...files]);
    return { code: 0, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

/** The unit's settings, key → values (a key may repeat). */
function settings(text: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (line.startsWith('#') || line.startsWith('[') || i < 0) continue;
    const k = line.slice(0, i);
    m.set(k, [...(m.get(k) ?? []), line.slice(i + 1)]);
  }
  return m;
}

describe('systemd units', () => {
  let dir: { path: string; remove(): Promise<void> };
  const units = new Map<string, string>();

  before(async () => {
    dir = await tempDir('catchment-units-');
    const bin = join(dir.path, 'catchment');
    await writeFile(bin, '#!/bin/sh\nexit 0\n');
    await chmod(bin, 0o755);
    for (const f of await readdir(SYSTEMD_UNITS)) {
      const text = await readFile(join(SYSTEMD_UNITS, f), 'utf8');
      units.set(f, text);
      await writeFile(join(dir.path, f), text.replaceAll('/usr/bin/catchment', bin));
    }
  });
  after(() => dir?.remove());

  it('pass systemd-analyze verify without a warning', async () => {
    assert.deepEqual([...units.keys()].sort(), [
      'catchment-api.service',
      'catchment-controller.service',
      'catchment-dns.service',
      'catchment-edge.service',
      'catchment.target',
    ]);
    const r = await verify([...units.keys()].map((u) => join(dir.path, u)));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
  });

  it('would be caught by verify if a setting were wrong (the check above can fail)', async () => {
    const bad = join(dir.path, 'catchment-bad.service');
    await writeFile(bad, (units.get('catchment-dns.service') ?? '').replace('ProtectHome=yes', 'ProtectHome=maybe'));
    const r = await verify([bad]);
    assert.match(r.stderr, /protect home/i);
  });

  for (const part of PARTS) {
    it(`catchment-${part}: its environment file, the catchment user, restart, sandbox`, () => {
      const s = settings(units.get(`catchment-${part}.service`) ?? '');
      const one = (k: string) => s.get(k)?.join(' ');
      assert.equal(one('EnvironmentFile'), `/etc/catchment/${part}.env`);
      assert.equal(one('User'), 'catchment');
      assert.equal(one('Restart'), 'on-failure');
      assert.match(one('ExecStart') ?? '', new RegExp(`^/usr/bin/catchment start --only ${part}\\b`));
      for (const [k, v] of [
        ['ProtectSystem', 'strict'],
        ['ProtectHome', 'yes'],
        ['PrivateTmp', 'yes'],
        ['NoNewPrivileges', 'yes'],
        ['ReadWritePaths', '/var/lib/catchment'],
      ] as const) {
        assert.equal(one(k), v, `${k}=${v}`);
      }
      // An empty production database must stay empty: the demo loads only without --no-demo.
      if (part === 'api' || part === 'controller') assert.match(one('ExecStart') ?? '', /--no-demo/);
    });
  }

  it('grant each part only the capabilities it needs', () => {
    const caps = (part: string) => {
      const s = settings(units.get(`catchment-${part}.service`) ?? '');
      return {
        bounding: (s.get('CapabilityBoundingSet') ?? []).join(' ').split(/\s+/).filter(Boolean).sort(),
        ambient: (s.get('AmbientCapabilities') ?? []).join(' ').split(/\s+/).filter(Boolean).sort(),
      };
    };
    assert.deepEqual(caps('api'), { bounding: [], ambient: [] });
    assert.deepEqual(caps('controller'), { bounding: [], ambient: [] });
    assert.deepEqual(caps('dns'), { bounding: ['CAP_NET_BIND_SERVICE'], ambient: ['CAP_NET_BIND_SERVICE'] });
    const edge = ['CAP_BPF', 'CAP_DAC_READ_SEARCH', 'CAP_NET_ADMIN', 'CAP_SYS_ADMIN'];
    assert.deepEqual(caps('edge'), { bounding: edge, ambient: edge });
  });

  it('reload with SIGHUP only the DNS server, the one part that handles it', () => {
    for (const part of PARTS) {
      const reload = settings(units.get(`catchment-${part}.service`) ?? '').get('ExecReload');
      assert.deepEqual(reload, part === 'dns' ? ['/bin/kill -HUP $MAINPID'] : undefined, part);
    }
  });

  it('rate as well sandboxed by systemd-analyze security (exposure at most 3 of 10)', async () => {
    for (const part of PARTS) {
      // Exits non-zero when the exposure is above the threshold.
      await run('systemd-analyze', [
        'security',
        '--offline=true',
        '--threshold=30', // tenths: 3.0 of 10
        '--no-pager',
        join(dir.path, `catchment-${part}.service`),
      ]);
    }
  });
});
