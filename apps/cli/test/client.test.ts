import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createToken, type StartedApi, startApi } from '@catchment/api';
import type { Database } from '@catchment/db';
import { type CliResult, DB_MODES, freePort, freshDatabase, GEOIP_TESTDATA, runCli, tempDir } from '@catchment/testkit';
import { reportObserved } from '@catchment/testkit/world';
import { parse } from 'yaml';

const DEMO = new URL('../../../config/demo.yaml', import.meta.url).pathname;

const oneLine = (r: CliResult, code: RegExp) => {
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, code);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
};

for (const mode of DB_MODES) {
  describe(`catchment CLI as an API client (${mode})`, () => {
    let dir: Awaited<ReturnType<typeof tempDir>>;
    let database: Database;
    let api: StartedApi;
    let env: Record<string, string>;
    let admin: string;
    const c = (...args: string[]) => runCli(args, env);

    before(async () => {
      dir = await tempDir();
      database = await freshDatabase(mode);
      admin = (await createToken(database.db, { name: 'test-admin', role: 'admin' })).token;
      api = await startApi({ database, port: 0, geo: { city: `${GEOIP_TESTDATA}/GeoIP2-City-Test.mmdb` } });
      env = { CATCHMENT_API_URL: api.url, CATCHMENT_API_TOKEN: admin, HOME: dir.path };
    });
    after(async () => {
      await api.close();
      await database.close();
      await dir.remove();
    });

    it('applies a configuration with --doit, then plans nothing (exit 0)', async () => {
      const refused = await c('apply', DEMO);
      assert.equal(refused.code, 1, 'apply without --doit (and no terminal) refuses');
      assert.match(refused.stderr, /NOT_APPLIED/);
      assert.match(refused.stdout, /\+ edges lhr \(new\)/, 'the plan was shown');
      const applied = await c('apply', DEMO, '--doit', '--reason', 'first load');
      assert.equal(applied.code, 0, applied.stderr);
      assert.match(applied.stdout, /Applied \d+ change\(s\); snapshot v1/);
      const again = await c('plan', DEMO);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /No changes/);
      const exported = join(dir.path, 'exported.yaml');
      assert.equal((await c('export', '--file', exported)).code, 0);
      const roundTrip = await c('plan', exported);
      assert.equal(roundTrip.code, 0, roundTrip.stdout + roundTrip.stderr);
      assert.equal(parse(await readFile(exported, 'utf8')).edges.length, 6);
    });

    it('lists, describes and explains in tables and JSON', async () => {
      const edges = await c('get', 'edges');
      assert.equal(edges.code, 0, edges.stderr);
      assert.match(edges.stdout, /^NAME\s+STATE\s+OVERRIDE/);
      assert.match(edges.stdout, /\nlhr\s+active\s+none\s+GB/);
      for (const line of edges.stdout.split('\n')) assert.ok(line.length <= 80, `80 columns: ${line}`);
      const json = JSON.parse((await c('get', 'edges', '-o', 'json')).stdout);
      assert.equal(json.length, 6);
      const yaml = parse((await c('get', 'prefix', '--edge', 'lhr', '-o', 'yaml')).stdout);
      assert.deepEqual(yaml.map((p: { cidr: string }) => p.cidr).sort(), ['198.18.4.0/24', '2001:db8:104::/48']);
      const badFilter = await c('get', 'edges', '--playbook', 'x');
      oneLine(badFilter, /USAGE: get edges has no filter --playbook/);

      const status = await c('status');
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /snapshot v1; automation on/);
      assert.match(status.stdout, /\nlhr\s+active\s+none\s+yes\s+on\s+-\/30000/);
      const described = await c('describe', 'edge', 'lhr');
      assert.match(described.stdout, /Prefixes \(2\):/);
      assert.match(described.stdout, /198\.18\.4\.0\/24\s+announced\s+no agent/);
      assert.match(described.stdout, /Slos \(1\):\n.*\n\s+lhr-utilisation/);

      const explained = await c('explain', 'www.example.net', '81.2.69.142');
      assert.equal(explained.code, 0, explained.stderr);
      assert.match(explained.stdout, /edge:\s+lhr/);
      assert.match(explained.stdout, /answer:\s+198\.18\.4\.10/);
      const ex = JSON.parse((await c('explain', 'www.example.net', '81.2.69.142', '-o', 'json')).stdout);
      assert.equal(ex.decision.edge, 'lhr');
      oneLine(await c('describe', 'edge', 'nowhere'), /^catchment: NOT_FOUND: edge "nowhere" does not exist\n$/);
    });

    it('every action with --dry-run prints the diff and changes nothing', async () => {
      const before = JSON.parse((await c('status', '-o', 'json')).stdout);
      const dry: string[][] = [
        ['drain', 'lhr'],
        ['force-down', 'lhr'],
        ['force-up', 'lhr'],
        ['shift', 'lhr', '20'],
        ['withdraw', '198.18.4.0/24'],
        ['communities', 'lhr', '64500:1'],
        ['dsr', 'lhr', '0.1'],
        ['freeze', 'lhr'],
        ['freeze'],
      ];
      for (const args of dry) {
        const r = await c(...args, '--reason', 'try', '--ttl', '10m', '--dry-run');
        assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stdout, /^dry run of [a-z-]+: nothing changed\n/);
        assert.match(r.stdout, /snapshot changes \(\d+\):|no change to the published snapshot/);
      }
      const drain = await c('drain', 'lhr', '--reason', 'try', '--dry-run', '-o', 'json');
      const body = JSON.parse(drain.stdout);
      assert.ok(
        body.diff.some(
          (d: { path: string; after: unknown }) => d.path === '/edges/lhr/override' && d.after === 'drain',
        ),
      );
      // The dry run shows the plan: the predicted load of every affected edge, before and after.
      assert.equal(body.predictedLoads[0]?.edge, 'lhr');
      const shift = await c('shift', 'lhr', '20', '--reason', 'try', '--dry-run');
      assert.match(
        shift.stdout,
        /predicted loads:\n\s+EDGE\s+CAPACITY\s+BEFORE RPS\s+AFTER RPS\s+BEFORE\s+AFTER\n\s+lhr\s/,
      );
      assert.deepEqual(JSON.parse((await c('get', 'actions', '-o', 'json')).stdout), [], 'no action was created');
      assert.deepEqual(JSON.parse((await c('status', '-o', 'json')).stdout), before);
      oneLine(await c('drain', 'lhr'), /USAGE: required option '--reason <text>' not specified/);
      oneLine(await c('shift', 'lhr', '150', '--reason', 'x'), /USAGE: percent must be a number from 0 to 100/);
    });

    it('drains for real with a ttl, refuses an unsafe action unless forced, and reverts', async () => {
      const drained = await c('drain', 'lhr', '--reason', 'maintenance', '--ttl', '1h');
      assert.equal(drained.code, 0, drained.stderr);
      assert.match(drained.stdout, /drain: action (\d+) created, expires/);
      const [action] = JSON.parse((await c('get', 'actions', '--active', 'true', '-o', 'json')).stdout);
      assert.equal(action.kind, 'drain');
      assert.match((await c('status')).stdout, /\nlhr\s+active\s+drain\s+NO/);
      const undone = await c('undrain', 'lhr', '--reason', 'done');
      assert.match(undone.stdout, new RegExp(`undrain: reverted action\\(s\\) ${action.id}`));
      // Withdrawing the unicast /24 of gru while its supernet has announcers is fine; force-down
      // of every large edge would leave the service without a route: refused, then forced.
      // The supernet's announcers' agents report it exported (coverage is judged on that).
      await reportObserved(database.db, ['fra', 'iad', 'sin'], new Date());
      const one = await c('force-down', 'fra', '--reason', 'x');
      assert.equal(one.code, 0, one.stderr);
      const two = await c('force-down', 'iad', '--reason', 'x');
      const refused = two.code === 0 ? await c('force-down', 'sin', '--reason', 'x') : two;
      oneLine(refused, /SAFETY_REFUSED: refused by safety rule/);
      const target = two.code === 0 ? 'sin' : 'iad';
      const forced = await c('force-down', target, '--reason', 'x', '--force');
      assert.equal(forced.code, 0, forced.stderr);
      assert.match(forced.stdout, /FORCED past safety rule/);
      const active = JSON.parse((await c('get', 'actions', '--active', 'true', '-o', 'json')).stdout);
      for (const a of active) assert.equal((await c('revert', String(a.id), '--reason', 'undo')).code, 0);
      assert.deepEqual(JSON.parse((await c('get', 'actions', '--active', 'true', '-o', 'json')).stdout), []);
      const audit = await c('get', 'audit', '--action', 'revert');
      assert.match(audit.stdout, /token:test-admin\s+revert/);
    });

    it('plans field-level diffs (exit 2), guards deletions, refuses a stale checksum', async () => {
      const changed = join(dir.path, 'changed.yaml');
      await writeFile(changed, (await readFile(DEMO, 'utf8')).replace('rps: 30000', 'rps: 45000'));
      const plan = await c('plan', changed);
      assert.equal(plan.code, 2, plan.stderr);
      assert.match(plan.stdout, /~ edges lhr\n {4}capacity\/rps: 30000 -> 45000\n/);
      assert.match(plan.stdout, /Plan: 0 to create, 1 to update, 0 to delete/);
      assert.match(plan.stdout, /Safety: pass/);

      const settingsOnly = join(dir.path, 'settings-only.yaml');
      await writeFile(settingsOnly, 'settings:\n  maxEdgesShed: 2\n');
      const guarded = await c('apply', settingsOnly, '--doit');
      assert.equal(guarded.code, 1);
      assert.match(
        guarded.stderr,
        /PLAN_GUARDED: not applied: updates or deletes \d+ of \d+ objects \(100 %\), more than 30 %/,
      );
      assert.match(guarded.stderr, /removes every one of the 6 edges/);
      assert.equal(JSON.parse((await c('get', 'edges', '-o', 'json')).stdout).length, 6, 'nothing was deleted');
      // The guard is the API's too, whatever the client.
      const { plan: p } = { plan: JSON.parse((await c('plan', settingsOnly, '-o', 'json')).stdout) };
      const direct = await fetch(`${api.url}/v1/config/apply`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ config: { settings: { maxEdgesShed: 2 } }, checksum: p.checksum }),
      });
      assert.equal(direct.status, 409);
      assert.equal(((await direct.json()) as { code: string }).code, 'PLAN_GUARDED');
      const stale = await fetch(`${api.url}/v1/config/apply`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ config: parse(await readFile(changed, 'utf8')), checksum: p.checksum }),
      });
      assert.equal(stale.status, 409);
      assert.equal(((await stale.json()) as { code: string }).code, 'PLAN_STALE');

      const smaller = join(dir.path, 'smaller.yaml');
      const demo = parse(await readFile(DEMO, 'utf8'));
      demo.slos = [];
      demo.playbooks = [];
      await writeFile(smaller, JSON.stringify(demo));
      const limited = await c('apply', smaller, '--doit', '--max-change', '5');
      oneLine(limited, /PLAN_GUARDED: not applied: updates or deletes 2 of 26 objects \(7\.7 %\), more than 5 %/);
      const forced = await c('apply', smaller, '--doit', '--max-change', '5', '--force');
      assert.equal(forced.code, 0, forced.stderr);
      assert.match(forced.stdout, /Applied 2 change\(s\) \(forced, audited\)/);
      assert.equal((await c('apply', DEMO, '--doit')).code, 0, 'back to the demo');
    });

    it('merges a directory of files, names duplicates in both files, lists every error with file:line:col', async () => {
      const demo = parse(await readFile(DEMO, 'utf8'));
      const split = join(dir.path, 'split');
      await mkdir(split);
      const { stringify } = await import('yaml');
      const { edges, ...rest } = demo;
      await writeFile(join(split, 'a-edges.yaml'), stringify({ edges }));
      await writeFile(join(split, 'b-rest.yaml'), stringify(rest));
      const same = await c('plan', split);
      assert.equal(same.code, 0, same.stderr + same.stdout);
      assert.match(same.stdout, /No changes/);

      await writeFile(join(split, 'c-dup.yaml'), `edges:\n  - ${JSON.stringify(edges[3])}\n`);
      const dup = await c('plan', split);
      oneLine(dup, /CONFIG_INVALID: 1 error\(s\) in 3 files/);
      assert.match(
        dup.stderr,
        /split\/c-dup\.yaml:2:\d+: \/edges\/0\/name: duplicate edges "lhr", also in .*split\/a-edges\.yaml:\d+:\d+ \(\/edges\/3\)/,
      );

      const bad = join(dir.path, 'bad.yaml');
      await writeFile(
        bad,
        [
          'edges:',
          '  - name: lhr',
          '    location: { lat: 51.5, lon: 0, country: GB, continent: EU }',
          '    capacity: { rps: 1000 }',
          '    colour: blue',
          'prefixes:',
          '  - cidr: 198.18.4.0/24',
          '    kind: unicast',
          '    edge: lhr',
          '    communities: ["64500:1", "bad community"]',
          '  - cidr: 198.18.9.0/24',
          '    kind: sideways',
          '  - cidr: 198.18.10.0/24',
          '    kind: unicast',
          '    edge: nowhere',
          '',
        ].join('\n'),
      );
      const errors = await c('plan', bad);
      oneLine(errors, /CONFIG_INVALID/);
      const lines = errors.stderr.trim().split('\n').slice(1);
      assert.deepEqual(
        lines.map((l) => l.trim().replace(/^.*bad\.yaml:/, '')),
        [
          '5:13: /edges/0/colour: unknown field "colour" (known: name, description, location, capacity, state, override, dsrAddress, dsr, watermarks)',
          '10:30: /prefixes/0/communities/1: expected `a:b` (16-bit each), `a:b:c` (32-bit each) or a well-known name (got "bad community")',
          '12:11: /prefixes/1/kind: expected one of "unicast", "anycast" (got "sideways")',
          '15:11: /prefixes/2/edge: unknown edge "nowhere" (REFERENCE_UNKNOWN)',
        ],
      );
      assert.doesNotMatch(errors.stderr, /anyOf|const/);

      const empty = join(dir.path, 'empty.yaml');
      await writeFile(empty, '\n# nothing\n');
      const e = await c('plan', empty);
      oneLine(e, /CONFIG_INVALID: 1 error\(s\) in .*empty\.yaml\n {2}.*empty\.yaml: the file is empty/);
      const scalar = join(dir.path, 'scalar.yaml');
      await writeFile(scalar, '42\n');
      oneLine(await c('plan', scalar), /scalar\.yaml:1:1: the file holds a scalar \(42\)/);
    });

    it('creates, lists and revokes tokens; uses a contexts file; says when the API is unreachable', async () => {
      const made = await c('token', 'create', '--role', 'viewer', '--name', 'ci-viewer');
      assert.equal(made.code, 0, made.stderr);
      const secret = made.stdout.trim();
      assert.match(secret, /^ct_/);
      assert.match((await c('token', 'list')).stdout, /ci-viewer\s+viewer/);

      const contexts = join(dir.path, 'contexts.yaml');
      const ctxEnv = { HOME: dir.path, CATCHMENT_CONFIG: contexts };
      const set = await runCli(['context', 'set', 'lab', '--url', api.url, '--token-value', secret], ctxEnv);
      assert.equal(set.code, 0, set.stderr);
      await runCli(['context', 'set', 'other', '--url', 'http://127.0.0.1:1'], ctxEnv);
      const viaContext = await runCli(['get', 'edges', '-o', 'json'], ctxEnv);
      assert.equal(viaContext.code, 0, viaContext.stderr);
      assert.equal(JSON.parse(viaContext.stdout).length, 6);
      assert.match((await runCli(['context', 'list'], ctxEnv)).stdout, /\*\s+lab\s+http/);
      const viewerCannot = await runCli(['drain', 'lhr', '--reason', 'x'], ctxEnv);
      oneLine(viewerCannot, /^catchment: FORBIDDEN: /);
      assert.equal((await runCli(['context', 'use', 'other'], ctxEnv)).code, 0);
      oneLine(
        await runCli(['get', 'edges'], ctxEnv),
        /^catchment: API_UNREACHABLE: cannot reach the API at http:\/\/127\.0\.0\.1:1 /,
      );
      oneLine(await runCli(['get', 'edges', '--context', 'nope'], ctxEnv), /CONTEXT_UNKNOWN/);

      const revoked = await c('token', 'revoke', 'ci-viewer', '--reason', 'rotated');
      assert.equal(revoked.code, 0, revoked.stderr);
      oneLine(await runCli(['get', 'edges', '--context', 'lab'], ctxEnv), /^catchment: UNAUTHORIZED: /);

      const port = await freePort();
      oneLine(await runCli(['status', '--api-url', `http://127.0.0.1:${port}`], { HOME: dir.path }), /API_UNREACHABLE/);
      // A list of API URLs: the first cannot be reached, the next one answers.
      const listed = await c('get', 'edges', '-o', 'json', '--api-url', `http://127.0.0.1:${port},${api.url}`);
      assert.equal(listed.code, 0, listed.stderr);
      assert.equal(JSON.parse(listed.stdout).length, 6);
      oneLine(await c('runs', 'approve', '999', '--reason', 'x'), /^catchment: NOT_FOUND: /);
    });
  });
}
