import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { bundle } from './bundle.ts';

/**
 * The release tree (`lib`): what the tarball holds and the package installs as /usr/lib/catchment.
 *
 *   bin/catchment, bin/node      the command (a shell wrapper) and the Node 24 runtime
 *   catchment.mjs, *.mjs         the bundle (scripts/release/bundle.ts)
 *   migrations/, config/, packages/ui/dist/, packages/udp-batch/build/Release/, bpf/build/
 *                                files the code reads at run time, at their source-tree places
 *   node_modules/<name>/         packages that locate their own files (PGlite's WebAssembly, ...)
 *   share/                       units, example environment files, monitoring kit, docs
 */

// Read at run time by name (createRequire().resolve), not by a bundled import.
const RUNTIME_PACKAGES: { name: string; from: string }[] = [
  { name: '@ip-location-db/geo-whois-asn-country-mmdb', from: 'packages/geo' },
];

// Files of the source tree the bundled code opens at run time (import.meta.url / dirname).
const TREE_FILES = [
  'migrations',
  'config/demo.yaml',
  'packages/ui/dist',
  'packages/udp-batch/build/Release/udp_batch.node',
  'bpf/build/catchment_dsr.o',
  'bpf/build/xdp_pass.o',
];

const run = (cmd: string, args: string[], cwd: string) => execFileSync(cmd, args, { cwd, stdio: 'inherit' });

/** Builds what the tree needs from source: the dashboard, the UDP addon (for this Node), the XDP objects. */
export function buildParts(root: string): void {
  run(process.execPath, ['packages/ui/src/build.ts'], root);
  // Not --optional: a release without the batched UDP path would be slower than a checkout.
  run(process.execPath, ['packages/udp-batch/src/build.ts'], root);
  run('bpf/build.sh', [], root);
}

function packageDir(root: string, name: string, from: string): string {
  const require = createRequire(path.join(root, from, 'package.json'));
  return path.dirname(require.resolve(`${name}/package.json`));
}

const WRAPPER = `#!/bin/sh
# The catchment command of a release: its own Node 24 runs the bundle beside it.
here=$(dirname "$(readlink -f "$0")")
exec "$here/node" "$here/../catchment.mjs" "$@"
`;

export interface Assembled {
  lib: string;
  packages: string[];
  inputs: number;
}

/** Assembles the release tree into `lib` (which must not exist). */
export async function assemble(root: string, lib: string, node: string): Promise<Assembled> {
  mkdirSync(lib, { recursive: true });
  const bundled = await bundle(root, lib);
  const copies = new Map(bundled.packages);
  for (const p of RUNTIME_PACKAGES) copies.set(p.name, packageDir(root, p.name, p.from));
  for (const [name, dir] of copies) {
    cpSync(dir, path.join(lib, 'node_modules', name), {
      recursive: true,
      dereference: true,
      filter: (src) => !src.slice(dir.length).includes(`${path.sep}node_modules`),
    });
  }
  for (const f of TREE_FILES) {
    const src = path.join(root, f);
    if (!existsSync(src)) throw new Error(`release: ${f} is missing (buildParts makes it)`);
    cpSync(src, path.join(lib, f), { recursive: true });
  }
  mkdirSync(path.join(lib, 'bin'));
  // Stripped: the debugging symbols are most of the binary and no use in production.
  execFileSync('strip', ['-o', path.join(lib, 'bin/node'), node]);
  writeFileSync(path.join(lib, 'bin/catchment'), WRAPPER);
  chmodSync(path.join(lib, 'bin/catchment'), 0o755);
  const share = path.join(lib, 'share');
  cpSync(path.join(root, 'deploy/systemd'), path.join(share, 'systemd'), { recursive: true });
  cpSync(path.join(root, 'deploy/env'), path.join(share, 'env'), { recursive: true });
  cpSync(path.join(root, 'deploy/monitoring'), path.join(share, 'monitoring'), { recursive: true });
  for (const f of ['LICENSE', 'CHANGELOG.md', 'README.md', 'docs/deploy.md', 'docs/design.md']) {
    cpSync(path.join(root, f), path.join(share, 'doc', path.basename(f)));
  }
  return { lib, packages: [...copies.keys()].sort(), inputs: bundled.inputs };
}
