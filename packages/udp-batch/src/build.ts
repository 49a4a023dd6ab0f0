/**
 * Builds the native addon with node-gyp against the headers of the Node that runs this script.
 * The Node 24 package from the npm registry ships its headers (include/node), so nothing is
 * downloaded; N-API is ABI-stable, so one build serves every Node 24 thread and worker.
 * Skips the build when the addon is newer than its sources (unless --force).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const root = join(import.meta.dirname, '..');
const addon = join(root, 'build', 'Release', 'udp_batch.node');
const sources = [join(root, 'native', 'udp_batch.c'), join(root, 'binding.gyp')];

const mtime = (f: string) => statSync(f).mtimeMs;
if (existsSync(addon) && sources.every((s) => mtime(s) <= mtime(addon)) && !process.argv.includes('--force')) {
  console.log('udp-batch: addon is up to date');
  process.exit(0);
}

// The npm `node` package keeps its headers in its platform package, beside the binary's copy.
const nodeDir = dirname(dirname(realpathSync(process.execPath)));
const headers = [nodeDir, join(nodeDir, 'node_modules', `node-${process.platform}-${process.arch}`), '/usr'].find((d) =>
  existsSync(join(d, 'include', 'node', 'node_api.h')),
);
if (!headers) {
  console.error(`udp-batch: no Node headers (include/node/node_api.h) beside ${process.execPath} or in /usr`);
  process.exit(process.argv.includes('--optional') ? 0 : 1);
}
const nodeGyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
console.log(`udp-batch: building the addon with node-gyp (headers from ${headers})`);
const r = spawnSync(process.execPath, [nodeGyp, 'rebuild', '--release', `--nodedir=${headers}`, '--jobs=2'], {
  cwd: root,
  stdio: ['ignore', 'inherit', 'inherit'],
  env: { ...process.env, npm_config_nodedir: headers },
});
if (r.status !== 0) {
  // At install time the addon is optional: the DNS server falls back to dgram and says so.
  console.error('udp-batch: build failed (needs python3, make and a C compiler); the DNS server falls back to dgram');
  process.exit(process.argv.includes('--optional') ? 0 : (r.status ?? 1));
}
console.log(`udp-batch: built ${addon}`);
