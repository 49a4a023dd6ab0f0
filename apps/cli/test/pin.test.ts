import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { CATCHMENT_CLI, DB_MODES, freshPostgresUrl, type Stack, startStack, tempDir } from '@catchment/testkit';
import { cityRecord, writeMmdb } from '@catchment/testkit/mmdb-writer';
import { until } from '@catchment/testkit/wait';

const run = promisify(execFile);

// Demo addresses of www.example.net per edge.
const LHR = '198.18.4.10';
const FRA = '198.18.1.10';
const IAD = '198.18.2.10';
const SYD = '198.18.6.10';

interface Answer {
  address: string;
  scope: number | undefined;
}

/** One query with a real client (dig, or kdig), bounded in time; the first answer and the ECS scope. */
async function ask(port: number, subnet: string, type = 'A', tool: 'dig' | 'kdig' = 'dig'): Promise<Answer> {
  const args =
    tool === 'dig'
      ? ['@127.0.0.1', '-p', String(port), 'www.example.net', type, `+subnet=${subnet}`, '+tries=1', '+time=3']
      : ['@127.0.0.1', '-p', String(port), 'www.example.net', type, `+subnet=${subnet}`, '+retry=0', '+time=3'];
  const { stdout } = await run(tool, args, { timeout: 10_000 });
  const address = stdout.match(/^www\.example\.net\.\s+\d+\s+IN\s+(?:A|AAAA)\s+(\S+)$/m)?.[1] ?? '';
  // dig: "; CLIENT-SUBNET: 198.51.101.0/24/24"; kdig: "; ECS: 198.51.101.0/24/24"
  const scope = stdout.match(/(?:CLIENT-SUBNET|ECS): \S+\/\d+\/(\d+)/)?.[1];
  return { address, scope: scope === undefined ? undefined : Number(scope) };
}

for (const mode of DB_MODES) {
  describe(`pin an answer: API, CLI and DNS (${mode})`, { timeout: 300_000 }, () => {
    let dir: Awaited<ReturnType<typeof tempDir>>;
    let stack: Stack;
    let env: Record<string, string>;
    const cli = async (...args: string[]) => {
      try {
        const { stdout, stderr } = await run(CATCHMENT_CLI[0]!, [...CATCHMENT_CLI.slice(1), ...args], {
          env: { PATH: process.env.PATH ?? '', ...env },
          timeout: 60_000,
        });
        return { code: 0, stdout, stderr };
      } catch (err) {
        const e = err as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      }
    };
    /** The API directly, for the steps that are not what this file tests (the CLI is slow to start here). */
    const api = async (method: string, path: string, body?: unknown) => {
      const r = await fetch(`${stack.apiUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${stack.adminToken}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      // biome-ignore lint/suspicious/noExplicitAny: test bodies are read loosely
      return { status: r.status, body: (await r.json()) as any };
    };
    const version = async () => {
      const r = await fetch(`${stack.apiUrl}/v1/snapshot`, {
        headers: { authorization: `Bearer ${env.CATCHMENT_API_TOKEN}` },
      });
      return ((await r.json()) as { version: number }).version;
    };
    /** Polls (bounded) until the DNS server answers `subnet` with `address`. */
    const answers = (subnet: string, address: string, type = 'A') =>
      until(
        `${subnet} → ${address}`,
        async () => {
          const a = await ask(stack.dnsPort, subnet, type);
          return a.address === address ? a : undefined;
        },
        30_000,
      );

    before(async () => {
      dir = await tempDir('catchment-pin-');
      // A London /22 and /32, Sydney: fine enough to see a pinned /24 inside a geo block.
      const city = join(dir.path, 'city.mmdb');
      await writeFile(
        city,
        writeMmdb([
          { cidr: '198.51.100.0/22', data: cityRecord('GB', 'EU', 51.5, -0.1) },
          { cidr: '203.0.113.0/24', data: cityRecord('AU', 'OC', -33.9, 151.2) },
          { cidr: '2a02:1000::/32', data: cityRecord('GB', 'EU', 51.5, -0.1) },
        ]),
      );
      stack = await startStack({
        env: {
          CATCHMENT_GEOIP_CITY: city,
          ...(mode === 'postgres' ? { DATABASE_URL: await freshPostgresUrl() } : {}),
        },
      });
      env = { CATCHMENT_API_URL: stack.apiUrl, CATCHMENT_API_TOKEN: stack.adminToken, HOME: dir.path };
    });
    after(async () => {
      await stack?.stop();
      await dir?.remove();
    });

    it('answers the geo way before any pin: a /22 block', async () => {
      const a = await answers('198.51.101.0/24', LHR);
      assert.equal(a.scope, 22);
    });

    it('a dry run changes nothing', async () => {
      const v = await version();
      const dry = await cli('pin', '198.51.101.0/24', 'fra', '--reason', 'customer X', '--dry-run');
      assert.equal(dry.code, 0, dry.stderr);
      assert.match(dry.stdout, /dry run of pin: nothing changed/);
      assert.match(dry.stdout, /pins/, 'the diff shows the pin');
      assert.equal(await version(), v);
      assert.equal((await ask(stack.dnsPort, '198.51.101.0/24')).address, LHR);
    });

    it('pins a /24 (IPv4) and a /48 (IPv6): the pinned block gets the edge, its neighbours keep the geo answer with a narrower scope', async () => {
      const r = await cli('pin', '198.51.101.0/24', 'fra', '--reason', 'customer X', '--ttl', '1h');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /pin: action \d+ created, expires /);
      const pinned = await answers('198.51.101.0/24', FRA);
      assert.equal(pinned.scope, 24, 'scope: the pinned /24');
      const host = await ask(stack.dnsPort, '198.51.101.77/32', 'A', 'kdig');
      assert.deepEqual(host, { address: FRA, scope: 24 }, 'kdig: a host inside the pin');
      const neighbour = await ask(stack.dnsPort, '198.51.100.0/24');
      assert.deepEqual(neighbour, { address: LHR, scope: 24 }, 'the neighbour /24: geo answer, never the /22');
      const rest = await ask(stack.dnsPort, '198.51.102.0/24');
      assert.deepEqual(rest, { address: LHR, scope: 23 }, 'the other half of the /22: a /23 that holds no pin');
      const wide = await ask(stack.dnsPort, '198.51.100.0/22');
      assert.ok((wide.scope ?? 0) <= 22 && wide.address === LHR, 'a /22 source gets at most its own length');

      const v6 = await cli('pin', '2a02:1000:1::/48', 'fra', '--reason', 'customer X v6', '--name', 'www.example.net');
      assert.equal(v6.code, 0, v6.stderr);
      const p6 = await answers('2a02:1000:1::/48', '2001:db8:101::10', 'AAAA');
      assert.equal(p6.scope, 48);
      assert.deepEqual(await ask(stack.dnsPort, '2a02:1000:2::/48', 'AAAA'), {
        address: '2001:db8:104::10',
        scope: 47,
      });
    });

    it('shows the pin in explain, get actions and get pins', async () => {
      const ex = await cli('explain', 'www.example.net', '198.51.101.9');
      assert.equal(ex.code, 0, ex.stderr);
      assert.match(ex.stdout, /edge:\s+fra/);
      assert.match(ex.stdout, /reason:\s+pin/);
      assert.match(ex.stdout, /pinned:\s+by action \d+ \(customer X\), expires 20/);
      assert.match(ex.stdout, /pin: pinned by action \d+ \(customer X\), expires .*198\.51\.101\.0\/24 → fra/);
      const d = (await api('GET', '/v1/explain?name=www.example.net&client=198.51.101.0/24')).body.decision;
      assert.equal(d.edge, 'fra');
      assert.equal(d.scope, 24);
      assert.equal(d.pin.reason, 'customer X');
      const actions = await cli('get', 'actions', '--kind', 'pin');
      assert.match(actions.stdout, /\d+\s+pin\s+fra\s+cidr=198\.51\.10/, 'in get actions');
      const pins = JSON.parse((await cli('get', 'pins', '-o', 'json')).stdout) as { params: { cidr?: string } }[];
      assert.deepEqual(pins.map((p) => p.params.cidr).sort(), ['198.51.101.0/24', '2a02:1000:1::/48']);
      const dup = await cli('pin', '198.51.101.0/24', 'iad', '--reason', 'again');
      assert.equal(dup.code, 1);
      assert.match(dup.stderr, /^catchment: STATE_CONFLICT: 198\.51\.101\.0\/24 is already pinned by action \d+/);
      const refused = [
        [{ edge: 'fra', cidr: '198.51.101.1/24', reason: 'host bits' }, 'CIDR_INVALID'],
        [{ edge: 'fra', country: 'XX', reason: 'no such country' }, 'VALIDATION_FAILED'],
        [{ edge: 'fra', country: 'GB', cidr: '192.0.2.0/24', reason: 'both' }, 'VALIDATION_FAILED'],
        [{ edge: 'fra', reason: 'neither' }, 'VALIDATION_FAILED'],
        [{ edge: 'fra', country: 'GB', name: 'docs.example.net', reason: 'not a service' }, 'REFERENCE_UNKNOWN'],
        [{ edge: 'nowhere', country: 'GB', reason: 'no edge' }, 'NOT_FOUND'],
      ] as const;
      const before = await version();
      for (const [body, code] of refused) {
        const r = await api('POST', '/v1/pins', body);
        assert.equal(r.body.code, code, `${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
      }
      assert.equal(await version(), before, 'nothing published');
    });

    it('a DNS shift of the pinned edge does not move the pinned block; a drain of it suspends the pin', async () => {
      // A customer kept on lhr whatever steering does; then lhr sheds all its DNS clients.
      const keep = await cli('pin', '198.51.103.0/24', 'lhr', '--reason', 'customer Y stays');
      assert.equal(keep.code, 0, keep.stderr);
      const shift = await api('POST', '/v1/edges/lhr/shift', {
        params: { percent: 100 },
        reason: 'shed lhr',
        force: true,
      });
      assert.equal(shift.status, 201, JSON.stringify(shift.body));
      const moved = await until(
        'lhr shifted',
        async () => {
          const a = await ask(stack.dnsPort, '198.51.100.0/24');
          return a.address !== LHR && a.address !== '' ? a : undefined;
        },
        30_000,
      );
      assert.notEqual(moved.address, LHR, 'an unpinned London /24 is shifted away');
      assert.deepEqual(await ask(stack.dnsPort, '198.51.103.0/24'), { address: LHR, scope: 24 }, 'pinned: stays');
      assert.deepEqual(await ask(stack.dnsPort, '198.51.101.0/24'), { address: FRA, scope: 24 });
      assert.equal((await api('POST', '/v1/edges/lhr/unshift', { reason: 'done' })).status, 200);
      const unpin = await cli('unpin', '198.51.103.0/24', '--reason', 'done');
      assert.equal(unpin.code, 0, unpin.stderr);
      await answers('198.51.100.0/24', LHR);

      const drain = await api('POST', '/v1/edges/fra/drain', { reason: 'maintenance', force: true });
      assert.equal(drain.status, 201, JSON.stringify(drain.body));
      const suspended = await answers('198.51.101.0/24', LHR);
      assert.equal(suspended.scope, 22, 'suspended: the geo answer of the whole block, as without the pin');
      const ex = await api('GET', '/v1/explain?name=www.example.net&client=198.51.101.9');
      assert.match(
        JSON.stringify(ex.body.decision.trace),
        /suspended: edge fra does not serve \(state active, override drain\)/,
      );
      assert.equal((await api('POST', '/v1/edges/fra/undrain', { reason: 'done' })).status, 200);
      await answers('198.51.101.0/24', FRA);
    });

    it('pins a country, for one service; a prefix pin beats it', async () => {
      await answers('203.0.113.0/24', SYD);
      const r = await cli('pin', 'au', 'iad', '--name', 'www.example.net', '--reason', 'AU via iad');
      assert.equal(r.code, 0, r.stderr);
      const a = await answers('203.0.113.0/24', IAD);
      assert.ok((a.scope ?? 0) <= 24);
      const gb = await api('POST', '/v1/pins', { edge: 'iad', country: 'GB', reason: 'GB via iad' });
      assert.equal(gb.status, 201, JSON.stringify(gb.body));
      await answers('198.51.100.0/24', IAD);
      assert.equal((await ask(stack.dnsPort, '198.51.101.0/24')).address, FRA, 'the /24 pin beats the country pin');
      assert.equal((await api('DELETE', `/v1/pins/${gb.body.action.id}`, { reason: 'done' })).status, 200);
      assert.equal((await cli('unpin', 'AU', '--reason', 'done')).code, 0);
      await answers('203.0.113.0/24', SYD);
    });

    it('unpin by prefix restores the geo answer; a pin expires by itself', async () => {
      const dry = await cli('unpin', '198.51.101.0/24', '--reason', 'customer left', '--dry-run');
      assert.match(dry.stdout, /dry run of unpin: nothing changed/, dry.stderr);
      const r = await cli('unpin', '198.51.101.0/24', '--reason', 'customer left');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /unpin: reverted action\(s\) \d+/);
      const back = await answers('198.51.101.0/24', LHR);
      assert.equal(back.scope, 22, 'the whole geo block again');
      const missing = await cli('unpin', '198.51.101.0/24', '--reason', 'again');
      assert.match(missing.stderr, /NOT_FOUND: no active pin of 198\.51\.101\.0\/24/);

      // The controller republishes when an action expires (it ticks every 2 s).
      const short = await cli('pin', '198.51.102.0/24', 'fra', '--reason', 'brief', '--ttl', '3s');
      assert.equal(short.code, 0, short.stderr);
      await answers('198.51.102.0/24', FRA);
      const expired = await answers('198.51.102.0/24', LHR);
      assert.equal(expired.scope, 22, 'no pin left in IPv4: the whole geo block');
      const listed = JSON.parse((await cli('get', 'pins', '--active', 'false', '-o', 'json')).stdout) as {
        reason: string;
      }[];
      assert.ok(listed.some((p) => p.reason === 'brief'));
    });

    it('completes pin and unpin in bash', async () => {
      const r = await cli('__complete', 'pin');
      assert.match(r.stdout, /--name/);
      assert.match(r.stdout, /--ttl/);
    });
  });
}
