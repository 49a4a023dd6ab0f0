import assert from 'node:assert/strict';
import { readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { freePort, runCli, tempDir } from '@catchment/testkit';
import { bundleUrl as fresh } from '../bin/fresh.mjs';

const DIST = new URL('../dist/', import.meta.url);
const sources = (args: string[], env: Record<string, string> = {}) =>
  runCli(args, { CATCHMENT_CLI_SOURCES: '1', ...env });

describe('the catchment launcher of a checkout', () => {
  it('runs the bundle only while every input is as it was bundled', async () => {
    const dir = await tempDir();
    try {
      const input = join(dir.path, 'input.ts');
      const T = 1_700_000_000; // seconds
      const put = (text: string, t = T) => {
        writeFileSync(input, text);
        utimesSync(input, t, t);
      };
      put('export {};\n');
      writeFileSync(join(dir.path, 'catchment-X.mjs'), '');
      const s = statSync(input);
      const manifest = { bundle: 'catchment-X.mjs', inputs: { [input]: [s.mtimeMs, s.size] } };
      writeFileSync(join(dir.path, 'bundle.json'), JSON.stringify(manifest));
      const dist = pathToFileURL(`${dir.path}/`);
      assert.equal(fresh(dist), new URL('catchment-X.mjs', dist).href);
      put('export {};\n', T + 1);
      assert.equal(fresh(dist), undefined, 'an input touched');
      put('export {}; \n');
      assert.equal(fresh(dist), undefined, 'an input of another size, same mtime');
      put('export {};\n');
      assert.ok(fresh(dist), 'as it was');
      rmSync(join(dir.path, 'catchment-X.mjs'));
      assert.equal(fresh(dist), undefined, 'the bundle gone');
      writeFileSync(join(dir.path, 'catchment-X.mjs'), '');
      writeFileSync(
        join(dir.path, 'bundle.json'),
        JSON.stringify({ ...manifest, inputs: { [`${input}.gone`]: [0, 0] } }),
      );
      assert.equal(fresh(dist), undefined, 'an input gone');
      assert.equal(fresh(pathToFileURL(`${dir.path}/none/`)), undefined, 'no bundle');
    } finally {
      await dir.remove();
    }
  });

  it('rebuilds a stale bundle, which holds the client modules and loads the server ones from source', async () => {
    const manifestFile = new URL('bundle.json', DIST);
    // Made stale without touching a source: one input's recorded mtime no longer matches.
    const res0 = await runCli(['version'], {});
    assert.equal(res0.code, 0, res0.stderr);
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { inputs: Record<string, [number, number]> };
    const [first] = Object.keys(manifest.inputs);
    manifest.inputs[first!]![0] = 0;
    writeFileSync(manifestFile, JSON.stringify(manifest));
    assert.equal(fresh(), undefined);
    const res = await runCli(['version'], {});
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stderr, '');
    const url = fresh();
    assert.ok(url, 'rebuilt and up to date');
    const text = readFileSync(new URL(url), 'utf8');
    assert.match(text, /import\("file:\/\/[^"]*\/apps\/cli\/src\/commands\/start\.ts"\)/);
    assert.doesNotMatch(text, /node_modules\/\.pnpm\/(fastify|typebox|pino|drizzle-orm|@electric-sql)/);
  });

  it('answers as the sources do: output, errors and exit codes', async () => {
    const port = await freePort();
    const unreachable = { CATCHMENT_API_URL: `http://127.0.0.1:${port}`, CATCHMENT_API_TOKEN: 'ct_x.y' };
    for (const [args, env] of [
      [['version'], {}],
      [['--help'], {}],
      [['get', 'edges'], unreachable],
      [['get', 'nothing'], unreachable],
      [['drain', 'lhr'], unreachable],
      [['completion', 'bash'], {}],
    ] as [string[], Record<string, string>][]) {
      const [bundled, source] = await Promise.all([runCli(args, env), sources(args, env)]);
      assert.deepEqual(bundled, source, `catchment ${args.join(' ')}`);
    }
  });
});
