import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { freePort, freshPostgresUrl, tempDir } from '@catchment/testkit';
import { parse } from 'yaml';

const run = promisify(execFile);
const MAIN = new URL('../src/main.ts', import.meta.url).pathname;
const DEMO = new URL('../../../config/demo.yaml', import.meta.url).pathname;

async function catchment(args: string[], env: Record<string, string>) {
  try {
    const { stdout, stderr } = await run(process.execPath, [MAIN, ...args], {
      env: { ...process.env, CATCHMENT_LOG_LEVEL: 'warn', ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('catchment CLI', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    dir = await tempDir();
  });
  after(() => dir.remove());

  for (const mode of ['pglite', 'postgres'] as const) {
    it(`imports, exports and refuses bad files on ${mode}`, async () => {
      const env: Record<string, string> =
        mode === 'postgres'
          ? { DATABASE_URL: await freshPostgresUrl() }
          : { CATCHMENT_DATA_DIR: join(dir.path, 'data') };
      const bad = join(dir.path, 'bad.yaml');
      await writeFile(
        bad,
        'edges:\n  - name: Bad Name\n    location: { lat: 91, lon: 0, country: de, continent: EU }\n    capacity: { rps: 1 }\n',
      );
      const refused = await catchment(['import', bad], env);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /CONFIG_INVALID/);
      assert.match(refused.stderr, /\/edges\/0\/name/);
      assert.match(refused.stderr, /\/edges\/0\/location\/lat/);
      assert.match(refused.stderr, /\/edges\/0\/location\/country/);

      const unreadable = await catchment(['import', join(dir.path, 'missing.yaml')], env);
      assert.equal(unreadable.code, 1);
      assert.match(unreadable.stderr, /CONFIG_UNREADABLE/);

      const empty = await catchment(['export'], env);
      assert.equal(empty.code, 0, empty.stderr);
      assert.deepEqual(parse(empty.stdout).edges, [], 'the refused import wrote nothing');

      const ok = await catchment(['import', DEMO], env);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /create edges fra/);
      assert.match(ok.stdout, /snapshot v1 published/);

      const out = join(dir.path, `export-${mode}.yaml`);
      assert.equal((await catchment(['export', '-o', out], env)).code, 0);
      const again = await catchment(['import', out], env);
      assert.match(again.stdout, /no changes/);
      const exported = parse(await readFile(out, 'utf8'));
      assert.equal(exported.edges.length, 6);
      assert.equal(exported.services[0].name, 'www.example.net');

      const status = await catchment(['migrate', '--status'], env);
      assert.match(status.stdout, /(\d+)\/\1 migrations applied/);
    });
  }

  it('says clearly when the database is unreachable', async () => {
    const port = await freePort();
    const res = await catchment(['migrate'], { DATABASE_URL: `postgres://nobody@127.0.0.1:${port}/none` });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /DB_UNREACHABLE: cannot reach PostgreSQL at postgres:\/\/nobody@127\.0\.0\.1/);
  });

  it('prints its version', async () => {
    const res = await catchment(['version'], {});
    assert.match(res.stdout, /^catchment \d+\.\d+\.\d+ \(node v24\./);
  });
});
