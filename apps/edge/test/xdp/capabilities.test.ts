import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { SYSTEMD_UNITS } from '@catchment/testkit';
import { Netns, uniquePrefix } from '@catchment/testkit/netns';
import { onAbruptEnd } from '@catchment/testkit/procs';
import { buildBpf } from '../../src/xdp/object.ts';

/**
 * catchment-edge.service runs the agent as an unprivileged user with a few ambient
 * capabilities, after its ExecStartPre (as root) made the pin directory the agent's. This runs
 * the XDP applier the same way (the unit's own capability list and ExecStartPre script, the
 * user `nobody`, setpriv for what systemd does) in a test namespace: it loads, pins and attaches
 * the program; without any one of the capabilities the kernel refuses.
 */
const run = promisify(execFile);
const unit = readFileSync(join(SYSTEMD_UNITS, 'catchment-edge.service'), 'utf8');
const setting = (key: string) =>
  unit
    .split('\n')
    .filter((l) => l.startsWith(`${key}=`))
    .map((l) => l.slice(key.length + 1));
const CAPS = setting('AmbientCapabilities').join(' ').split(/\s+/).filter(Boolean);
const NOBODY = 65534;
const skip = process.getuid?.() !== 0 ? 'needs root (namespaces, setpriv, bpffs)' : false;

describe('the edge unit grants what XDP needs, as a non-root user', { skip, concurrency: false }, () => {
  const netns = new Netns(uniquePrefix('c'));
  const instance = `${netns.prefix}_u`.replace(/-/g, '_');
  const pinDir = `/sys/fs/bpf/${instance}`;
  let ns = '';
  let object = '';

  // systemd mounts bpffs with mode 0700; the kernel's own default is 1777 (this machine has no
  // systemd). The agent must work where only CAP_DAC_READ_SEARCH lets it through, so the test
  // gives the bpffs root systemd's mode while it runs. Root processes are unaffected (they
  // override DAC), and the mode is put back however the test ends.
  const BPFFS = '/sys/fs/bpf';
  let bpffsMode = 0;
  let forgetMode: () => void = () => {};

  before(async () => {
    bpffsMode = statSync(BPFFS).mode & 0o7777;
    forgetMode = onAbruptEnd(() => chmodSync(BPFFS, bpffsMode));
    chmodSync(BPFFS, 0o700);
    object = (await buildBpf()).dsr;
    ns = netns.add('x');
    netns.ip(ns, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
    netns.ip(ns, 'link', 'set', 'v0', 'up');
    netns.ip(ns, 'link', 'set', 'v1', 'up');
    // The unit's ExecStartPre, as systemd would run it (its $$ and %% unescaped), for user nobody.
    const pre = setting('ExecStartPre')[0] ?? '';
    const script = /^\+\/bin\/sh -c '(.*)'$/.exec(pre)?.[1];
    assert.ok(script, `ExecStartPre runs a shell script as root: ${pre}`);
    execFileSync(
      'sh',
      ['-c', script.replaceAll('$$', '$').replaceAll('%%', '%').replace('catchment:catchment', 'nobody:nogroup')],
      { env: { PATH: process.env.PATH, CATCHMENT_EDGE_XDP_IFACE: 'v0', CATCHMENT_EDGE_XDP_INSTANCE: instance } },
    );
  });

  after(() => {
    netns.cleanup();
    rmSync(pinDir, { recursive: true, force: true });
    if (bpffsMode) chmodSync(BPFFS, bpffsMode);
    forgetMode();
  });

  /** The applier as user nobody in the namespace, with exactly these capabilities (ambient, bounding). */
  const asAgent = (caps: string[]) => {
    const list = ['-all', ...caps.map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`)].join(',');
    const raise = caps.length > 0 ? [`--ambient-caps=${list.replace('-all,', '')}`] : [];
    return run(
      'nsenter',
      [
        `--net=/run/netns/${ns}`,
        'setpriv',
        `--reuid=${NOBODY}`,
        `--regid=${NOBODY}`,
        '--clear-groups',
        `--inh-caps=${list}`,
        ...raise,
        `--bounding-set=${list}`,
        process.execPath,
        join(import.meta.dirname, 'as-user.ts'),
        instance,
        object,
      ],
      // Not a test process itself: without NODE_TEST_CONTEXT its output is its own.
      { cwd: '/tmp', timeout: 60_000, env: { PATH: process.env.PATH } },
    );
  };

  // The result line (the test runner, imported by the snapshot helpers, prints a summary after it).
  const resultOf = (stdout: string) => stdout.split('\n').find((l) => l.startsWith('{"uid"')) ?? stdout;

  it('the unit names the same capabilities for its bounding and ambient sets', () => {
    assert.deepEqual(setting('CapabilityBoundingSet').join(' ').split(/\s+/).sort(), [...CAPS].sort());
    assert.ok(CAPS.length > 0);
  });

  it('the pin directory is made for the agent by the unit, and the agent loads, pins and attaches', async () => {
    assert.equal(statSync(pinDir).uid, NOBODY);
    const { stdout } = await asAgent(CAPS);
    const r = JSON.parse(resultOf(stdout)) as { uid: number; loaded: { mode: string } | null };
    assert.equal(r.uid, NOBODY);
    assert.equal(r.loaded?.mode, 'native');
    assert.equal(statSync(join(pinDir, 'prog')).uid, NOBODY);
    const link = JSON.parse(netns.ip(ns, '-j', '-d', 'link', 'show', 'dev', 'v0')) as Array<{
      xdp?: { prog?: { name?: string } };
    }>;
    assert.equal(link[0]?.xdp?.prog?.name, 'catchment_dsr');
    // A restart of the agent reuses its pinned maps.
    const again = JSON.parse(resultOf((await asAgent(CAPS)).stdout)) as {
      loaded: { created: string[]; reused: string[] };
    };
    assert.deepEqual(again.loaded.created, []);
    assert.ok(again.loaded.reused.includes('flows'));
  });

  for (const missing of ['CAP_SYS_ADMIN', 'CAP_NET_ADMIN', 'CAP_DAC_READ_SEARCH']) {
    it(`fails without ${missing} (each of them is needed)`, async () => {
      assert.ok(CAPS.includes(missing), `${missing} is in the unit`);
      // A fresh start: nothing pinned that could be reused.
      for (const f of ['prog', 'maps']) rmSync(join(pinDir, f), { recursive: true, force: true });
      netns.ip(ns, 'link', 'set', 'dev', 'v0', 'xdp', 'off');
      // Refused by the kernel (EPERM from bpf() or netlink, EACCES on bpffs), not failing otherwise.
      await assert.rejects(asAgent(CAPS.filter((c) => c !== missing)), (err: { stderr?: string }) => {
        assert.match(err.stderr ?? '', /Operation not permitted|EACCES|permission denied|failed to load: -(1|13)\b/i);
        return true;
      });
    });
  }
});
