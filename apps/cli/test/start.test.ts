import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { freePort, GEOIP_TESTDATA, tempDir, until } from '@catchment/testkit';

const run = promisify(execFile);
const MAIN = new URL('../src/main.ts', import.meta.url).pathname;
const CITY = `${GEOIP_TESTDATA}/GeoIP2-City-Test.mmdb`;

/** `catchment start` as a user runs it, on its own data folder and free ports. */
async function startCatchment(dataDir: string, ports: Record<string, number>) {
  const env = {
    ...process.env,
    CATCHMENT_DATA_DIR: dataDir,
    CATCHMENT_API_PORT: String(ports.api),
    CATCHMENT_DNS_PORT: String(ports.dns),
    CATCHMENT_DNS_HTTP_PORT: String(ports.dnsHttp),
    CATCHMENT_CONTROLLER_PORT: String(ports.controller),
    CATCHMENT_DNS_WORKERS: '1',
    CATCHMENT_GEOIP_CITY: CITY,
    CATCHMENT_LOG_LEVEL: 'info',
  };
  const child = spawn(process.execPath, [MAIN, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  return { child, env, output: () => output };
}

async function dig(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(port), '+short', '+time=1', '+tries=1', ...args]);
  return stdout.trim();
}

async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const [code] = await once(child, 'exit');
  clearTimeout(timer);
  return code as number | null;
}

describe('catchment start (single process, embedded database)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let ports: Record<string, number>;
  let main: Awaited<ReturnType<typeof startCatchment>>;
  before(async () => {
    dir = await tempDir();
    ports = { api: await freePort(), dns: await freePort(), dnsHttp: await freePort(), controller: await freePort() };
    main = await startCatchment(join(dir.path, 'data'), ports);
  });
  after(async () => {
    await stop(main.child);
    await dir.remove();
  });

  it('serves the demo configuration over DNS by geography', async () => {
    // MaxMind's test data: 81.2.69.142 is London, 175.16.199.0 is in China, 216.160.83.56 in the US.
    const london = await until(
      'a DNS answer',
      async () => (await dig(ports.dns!, 'www.example.net', '+subnet=81.2.69.142/32')) || undefined,
    );
    assert.equal(london, '198.18.4.10', main.output());
    assert.equal(await dig(ports.dns!, 'www.example.net', '+subnet=175.16.199.0/24'), '198.18.3.10');
    assert.equal(await dig(ports.dns!, 'www.example.net', '+subnet=216.160.83.56/32'), '198.18.2.10');
    assert.match(
      await dig(ports.dns!, 'example.net', 'SOA'),
      /^ns1\.example\.net\. hostmaster\.example\.net\. 2026112201 /,
    );
  });

  it('creates a first admin token in a private file, and the API requires it', async () => {
    const file = join(dir.path, 'data', 'admin-token');
    const token = await until('the admin token file', async () => (await readFile(file, 'utf8')).trim() || undefined);
    assert.match(token, /^ct_/);
    assert.ok(!main.output().includes(token), 'the token never appears in the logs');
    const api = `http://127.0.0.1:${ports.api}`;
    assert.equal((await fetch(`${api}/v1/edges`)).status, 401);
    const res = await fetch(`${api}/v1/edges`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
  });

  it('an operator action reaches the in-process DNS server at once', async () => {
    const token = (await readFile(join(dir.path, 'data', 'admin-token'), 'utf8')).trim();
    const res = await fetch(`http://127.0.0.1:${ports.api}/v1/edges/lhr/drain`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'test: drain London' }),
    });
    assert.ok(res.status < 300, `${res.status} ${await res.text()}`);
    const answer = await until('London clients moved off lhr', async () => {
      const a = await dig(ports.dns!, 'www.example.net', '+subnet=81.2.69.142/32');
      return a && a !== '198.18.4.10' ? a : undefined;
    });
    assert.equal(answer, '198.18.1.10', 'the nearest other edge to London is Frankfurt');
  });

  it('the CLI works through the API while start holds the embedded database', async () => {
    // No URL or token given: the CLI finds start's API port and admin-token file itself.
    const env = { ...main.env, CATCHMENT_API_URL: '', CATCHMENT_API_TOKEN: '' };
    const cli = async (...args: string[]) => (await run(process.execPath, [MAIN, ...args], { env })).stdout;
    assert.match(await cli('status'), /\nlhr\s+active\s+drain\s+NO/, 'the drain of the previous test shows');
    assert.match(await cli('get', 'edges'), /\nfra\s+active\s+none/);
    assert.match(
      await cli('force-down', 'syd', '--reason', 'try', '--dry-run'),
      /^dry run of force-down: nothing changed/,
    );
    assert.match(await cli('token', 'create', '--role', 'viewer', '--name', 'while-running'), /^ct_/);
    assert.match(await cli('export'), /name: www\.example\.net/);
  });

  it('hands its API the simulator: POST /v1/simulate runs the controller', async () => {
    const token = (await readFile(join(dir.path, 'data', 'admin-token'), 'utf8')).trim();
    const res = await fetch(`http://127.0.0.1:${ports.api}/v1/simulate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        duration: '30s',
        clients: [{ country: 'GB', rps: 1000, blocks: 1 }],
        strategies: ['full'],
      }),
    });
    const body = (await res.json()) as {
      scenario: { durationS: number; blocks: number };
      runs: { strategy: string }[];
    };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.scenario.durationS, 30);
    // On start's GeoIP database (MaxMind's test data: one British /24), not the embedded one.
    assert.equal(body.scenario.blocks, 1);
    assert.deepEqual(
      body.runs.map((r) => r.strategy),
      ['full'],
    );
  });

  it('refuses a second process on the same embedded database, and a port in use', async () => {
    const second = await run(process.execPath, [MAIN, 'token', 'bootstrap', '--role', 'viewer'], {
      env: main.env,
    }).catch((e: { stderr: string; code: number }) => e);
    assert.equal((second as { code: number }).code, 1);
    assert.match(
      (second as { stderr: string }).stderr,
      /DB_UNREACHABLE: the embedded database .* is in use by process \d+/,
    );

    const other = await startCatchment(join(dir.path, 'other'), { ...ports, controller: await freePort() });
    const [code] = await once(other.child, 'exit');
    assert.equal(code, 1);
    assert.match(other.output(), /PORT_IN_USE: DNS: 127\.0\.0\.1:\d+ is already in use/);
  });

  it('stops gracefully on SIGTERM and releases the database', async () => {
    assert.equal(await stop(main.child), 0);
    assert.ok(!existsSync(join(dir.path, 'data', 'pglite.lock')));
    const made = await run(process.execPath, [MAIN, 'token', 'bootstrap', '--role', 'viewer', '--name', 'after-stop'], {
      env: main.env,
    });
    assert.match(made.stdout, /^ct_/);
  });
});
