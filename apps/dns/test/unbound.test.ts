import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ASN_DB, CITY_DB, demoBody } from '@catchment/testkit/geo-fixtures';
import { freePort, type Running, run, startServer } from './helpers.ts';

/** unbound as a real recursive resolver that sends ECS to our server and caches by scope. */
describe('through unbound (ECS-sending resolver with subnetcache)', () => {
  let s: Running;
  let unbound: ChildProcess;
  let port = 0;
  let dir = '';

  before(async () => {
    s = await startServer(demoBody(), { geo: { city: CITY_DB, asn: ASN_DB, watch: false } });
    port = await freePort();
    dir = mkdtempSync(join(tmpdir(), 'catchment-unbound-'));
    const conf = join(dir, 'unbound.conf');
    writeFileSync(
      conf,
      `server:
  interface: 127.0.0.1
  port: ${port}
  do-ip6: no
  username: ""
  chroot: ""
  directory: "${dir}"
  pidfile: "${dir}/unbound.pid"
  use-syslog: no
  logfile: ""
  verbosity: 0
  do-daemonize: no
  access-control: 127.0.0.0/8 allow
  module-config: "subnetcache validator iterator"
  send-client-subnet: 127.0.0.1
  max-client-subnet-ipv4: 32
  max-client-subnet-ipv6: 56
  do-not-query-localhost: no
  qname-minimisation: no
  prefetch: no
stub-zone:
  name: "example.net"
  stub-addr: 127.0.0.1@${s.port}
`,
    );
    unbound = spawn('unbound', ['-d', '-c', conf], { stdio: 'ignore' });
    for (let i = 0; i < 50; i++) {
      const ok = await run('dig', ['@127.0.0.1', '-p', String(port), '+time=1', '+tries=1', 'example.net', 'SOA']).then(
        () => true,
        () => false,
      );
      if (ok) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  });
  after(async () => {
    if (unbound && unbound.exitCode === null) {
      const exited = new Promise((r) => unbound.once('exit', r));
      unbound.kill('SIGTERM');
      await exited;
    }
    await s?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const ask = async (subnet: string) =>
    (
      await run('dig', [
        '@127.0.0.1',
        '-p',
        String(port),
        '+time=3',
        '+tries=1',
        '+short',
        'www.example.net',
        'A',
        `+subnet=${subnet}`,
      ])
    ).stdout.trim();

  const upstreamQueries = async () => {
    const text = await (await fetch(`http://127.0.0.1:${s.httpPort}/metrics`)).text();
    return [...text.matchAll(/^catchment_dns_queries_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
  };

  it('clients in different places get different edges through the resolver', async () => {
    assert.equal(await ask('81.2.69.142/32'), '198.18.4.10', 'London → lhr');
    assert.equal(await ask('216.160.83.56/32'), '198.18.2.10', 'Milton (US) → iad');
    assert.equal(await ask('175.16.199.0/24'), '198.18.3.10', 'Changchun (CN) → sin by policy');
  });

  it('caches one answer per scope block', async () => {
    await ask('81.2.69.142/32');
    const before = await upstreamQueries();
    // 81.2.69.143 is inside the /31 block of the first answer: served from unbound's cache.
    assert.equal(await ask('81.2.69.143/32'), '198.18.4.10');
    assert.equal(await upstreamQueries(), before, 'no new query to the authoritative server');
    // 216.160.83.57 is in Milton's /29 block, already cached; a new block asks upstream again.
    assert.equal(await ask('216.160.83.57/32'), '198.18.2.10');
    assert.equal(await upstreamQueries(), before);
    await ask('81.2.69.160/32');
    assert.ok((await upstreamQueries()) > before, 'another block → a new upstream query');
  });
});
