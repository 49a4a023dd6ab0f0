import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { chownSync, existsSync, readFileSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { buildRelease, freePort, type Release, stopChild, tempDir, until } from '@catchment/testkit';

/**
 * The release as an operator gets it: `pnpm release` builds the Debian package, `dpkg -i`
 * installs it on this machine (removed with `dpkg --purge` afterwards), and the installed
 * `catchment` runs every part on the embedded defaults as the `catchment` user, from
 * /usr/lib/catchment alone (no checkout, no node_modules, no type stripping).
 */
const run = promisify(execFile);
const PKG = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
const installedBefore = existsSync('/var/lib/dpkg/info/catchment.list');
const skip =
  process.getuid?.() !== 0
    ? 'installing a Debian package needs root (dpkg -i)'
    : installedBefore
      ? 'a catchment package is already installed on this machine; not touching it'
      : false;

// The demo answers a London client (GB, in the embedded country database) with lhr's address.
const LHR = '198.18.4.10';

async function dig(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(port), '+time=1', '+tries=1', ...args]);
  return stdout;
}

describe('the Debian package', { skip }, () => {
  let release: Release;
  let out: { path: string; remove(): Promise<void> };
  let data: { path: string; remove(): Promise<void> };
  let installed = false;

  before(async () => {
    out = await tempDir('catchment-release-out-');
    data = await tempDir('catchment-release-data-');
    release = await buildRelease(out.path);
    await run('dpkg', ['-i', release.deb]);
    installed = true;
  });

  after(async () => {
    if (installed) await run('dpkg', ['--purge', 'catchment']);
    await out?.remove();
    await data?.remove();
  });

  it('is built with the version of package.json, as a tarball too', async () => {
    assert.equal(release.version, PKG.version);
    assert.match(release.deb, new RegExp(`catchment_${PKG.version}_\\w+\\.deb$`));
    const { stdout } = await run('tar', ['-tzf', release.tarball]);
    const names = stdout.split('\n');
    for (const f of [
      'bin/catchment',
      'bin/node',
      'catchment.mjs',
      'migrations/',
      'share/systemd/catchment-dns.service',
    ]) {
      assert.ok(
        names.some((n) => n === `catchment-${PKG.version}/${f}`),
        `${f} in the tarball`,
      );
    }
    // Self-contained: unpacked anywhere, its command runs on its own Node.
    await run('tar', ['-xzf', release.tarball, '-C', out.path]);
    const { stdout: v } = await run(join(out.path, `catchment-${PKG.version}`, 'bin/catchment'), ['version'], {
      env: { PATH: '/usr/bin:/bin' },
    });
    assert.match(v, new RegExp(`^catchment ${PKG.version.replaceAll('.', '\\.')} \\(node v24\\.`));
  });

  it('installs the command, the units, the configuration, the user and its state directory', async () => {
    const { stdout: v } = await run('/usr/bin/catchment', ['version']);
    assert.match(v, new RegExp(`^catchment ${PKG.version.replaceAll('.', '\\.')} \\(node v24\\.`));
    for (const part of ['api', 'controller', 'dns', 'edge']) {
      assert.ok(existsSync(`/lib/systemd/system/catchment-${part}.service`), `catchment-${part}.service`);
      const env = statSync(`/etc/catchment/${part}.env`);
      assert.equal(env.mode & 0o777, 0o640, `${part}.env is not world-readable (it will hold secrets)`);
      // Commented examples only: an unedited file changes no default.
      const lines = readFileSync(`/etc/catchment/${part}.env`, 'utf8').split('\n');
      assert.deepEqual(
        lines.filter((l) => l.trim() !== '' && !l.startsWith('#')),
        [],
      );
    }
    const { stdout: pw } = await run('getent', ['passwd', 'catchment']);
    const [, , uid, gid, , home] = pw.trim().split(':');
    assert.ok(Number(uid) < 1000, `a system user (uid ${uid})`);
    assert.equal(home, '/var/lib/catchment');
    const state = statSync('/var/lib/catchment');
    assert.equal(state.uid, Number(uid));
    assert.equal(state.gid, Number(gid));
    // Conffiles: an upgrade keeps the operator's edits.
    const conffiles = readFileSync('/var/lib/dpkg/info/catchment.conffiles', 'utf8').trim().split('\n');
    assert.deepEqual(
      conffiles.sort(),
      ['api', 'controller', 'dns', 'edge'].map((p) => `/etc/catchment/${p}.env`),
    );
  });

  it('has units that systemd-analyze verify accepts at their installed paths', async () => {
    const units = (await readdir('/lib/systemd/system')).filter((f) => f.startsWith('catchment'));
    assert.equal(units.length, 5);
    const r = await run('systemd-analyze', ['verify', ...units.map((u) => `/lib/systemd/system/${u}`)], {});
    assert.equal(r.stderr, '');
  });

  it('runs every part as the catchment user and answers DNS queries, signed, from the bundle alone', async () => {
    const { stdout: pw } = await run('getent', ['passwd', 'catchment']);
    const [, , uid, gid] = pw.trim().split(':').map(Number);
    chownSync(data.path, uid!, gid!);
    const [api, dns, dnsHttp, ctl] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    let log = '';
    // As the service would run it: the package's command, its user, no checkout in reach.
    const child = spawn(
      'setpriv',
      ['--reuid=catchment', '--regid=catchment', '--init-groups', '/usr/bin/catchment', 'start'],
      {
        cwd: data.path,
        env: {
          PATH: '/usr/bin:/bin',
          CATCHMENT_DATA_DIR: data.path,
          CATCHMENT_API_PORT: String(api),
          CATCHMENT_DNS_PORT: String(dns),
          CATCHMENT_DNS_HTTP_PORT: String(dnsHttp),
          CATCHMENT_CONTROLLER_PORT: String(ctl),
          // One answering worker: its own bundle (apps/dns/src/worker.mjs) must load too.
          CATCHMENT_DNS_WORKERS: '1',
          CATCHMENT_LOG_FORMAT: 'json',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout.on('data', (b: Buffer) => {
      log += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      log += b.toString();
    });
    try {
      const london = async () => (await dig(dns, '+short', 'www.example.net', 'A', '+subnet=81.2.69.0/24')).trim();
      // Every part up (the embedded database's first start is slow on a busy machine).
      await until(
        'the installed catchment to start',
        async () => {
          if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
          return log.includes('"msg":"catchment started"') ? true : undefined;
        },
        120_000,
        500,
      ).catch((err) => {
        throw new Error(`${(err as Error).message}\n${log}`);
      });
      assert.equal(await london(), LHR);
      // Signed online: the KEK file made at the first start, the signing code bundled.
      const soa = await dig(dns, '+dnssec', '+norec', 'example.net', 'SOA');
      assert.match(soa, /RRSIG\s+SOA/);
      // The batched UDP addon loaded from the package (no fallback warning).
      assert.doesNotMatch(log, /batched UDP I\/O unavailable/);

      // The API from the same process: the dashboard's files and the REST API with the first admin token.
      const ui = await fetch(`http://127.0.0.1:${api}/ui/`);
      assert.equal(ui.status, 200);
      assert.match(await ui.text(), /<html/i);
      const token = readFileSync(join(data.path, 'admin-token'), 'utf8').trim();
      const edges = await fetch(`http://127.0.0.1:${api}/v1/edges`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(edges.status, 200);
      assert.match(await edges.text(), /"lhr"/);

      // `systemctl reload catchment-dns` sends SIGHUP: the server reloads and keeps answering.
      child.kill('SIGHUP');
      await until(
        'the reload to be logged',
        async () => (log.includes('SIGHUP: reloading') ? true : undefined),
        10_000,
      );
      assert.equal(await london(), LHR);
      assert.equal(child.exitCode, null, 'still running after SIGHUP');

      // The edge agent of the package (`catchment start --only edge`, as catchment-edge runs it):
      // it follows this API; with no BIRD here its reconciles fail, but it serves /status and
      // reports that this host lacks lhr's service addresses.
      const edgeHttp = await freePort();
      let edgeLog = '';
      const agent = spawn(
        'setpriv',
        ['--reuid=catchment', '--regid=catchment', '--init-groups', '/usr/bin/catchment', 'start', '--only', 'edge'],
        {
          cwd: data.path,
          env: {
            PATH: '/usr/bin:/bin',
            CATCHMENT_DATA_DIR: data.path,
            CATCHMENT_EDGE: 'lhr',
            CATCHMENT_API_URL: `http://127.0.0.1:${api}`,
            CATCHMENT_API_TOKEN: token,
            CATCHMENT_EDGE_HTTP: `127.0.0.1:${edgeHttp}`,
            BIRD_SOCKET: join(data.path, 'no-bird.ctl'),
            BIRD_CONFIG: join(data.path, 'no-bird.conf'),
            BIRD_INCLUDE: join(data.path, 'catchment-bird.conf'),
            CATCHMENT_LOG_FORMAT: 'json',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      agent.stdout.on('data', (b: Buffer) => {
        edgeLog += b.toString();
      });
      agent.stderr.on('data', (b: Buffer) => {
        edgeLog += b.toString();
      });
      try {
        const status = await until(
          "the installed edge agent's status",
          async () => {
            if (agent.exitCode !== null) throw new Error(`edge agent exited with ${agent.exitCode}`);
            const r = await fetch(`http://127.0.0.1:${edgeHttp}/status`);
            const s = (await r.json()) as { missingAddresses: { address: string }[] | null };
            return s.missingAddresses ? s : undefined;
          },
          60_000,
          500,
        ).catch((err) => {
          throw new Error(`${(err as Error).message}\n${edgeLog}`);
        });
        assert.ok(
          status.missingAddresses?.some((m) => m.address === LHR),
          JSON.stringify(status.missingAddresses),
        );
        assert.match(edgeLog, /not configured on any local interface/);
      } finally {
        await stopChild(agent);
      }
    } catch (err) {
      await stopChild(child);
      throw err;
    }
    assert.equal(await stopChild(child), 0, log);
    // The migrations shipped in the package are the ones the database has.
    const status = await run(
      'setpriv',
      ['--reuid=catchment', '--regid=catchment', '--init-groups', '/usr/bin/catchment', 'migrate', '--status'],
      {
        cwd: data.path,
        env: { PATH: '/usr/bin:/bin', CATCHMENT_DATA_DIR: data.path, CATCHMENT_LOG_LEVEL: 'silent' },
      },
    );
    const m = /(\d+)\/(\d+) migrations applied/.exec(status.stdout);
    assert.ok(m, status.stdout);
    assert.equal(m[1], m[2]);
    assert.ok(Number(m[2]) > 0);
  });

  it('leaves nothing of itself behind when purged', async () => {
    await run('dpkg', ['--purge', 'catchment']);
    installed = false;
    for (const p of [
      '/usr/bin/catchment',
      '/usr/lib/catchment',
      '/lib/systemd/system/catchment-dns.service',
      '/var/lib/catchment',
      '/etc/catchment/dns.env',
    ]) {
      assert.equal(existsSync(p), false, `${p} removed`);
    }
  });
});
