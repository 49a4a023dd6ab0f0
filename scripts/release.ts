/**
 * `pnpm release [--out dir] [--fast] [--skip-build]`: the release artefacts of this checkout's
 * version (package.json) in dist/ (default):
 *   catchment-<version>-linux-<arch>.tar.gz   the release tree (bin/catchment, bin/node, ...)
 *   catchment_<version>_<arch>.deb            the Debian package (docs/deploy.md)
 * Every process is bundled into plain JavaScript (esbuild) and runs on the Node 24 runtime the
 * release ships (the project's, from .tools); the UDP addon and the XDP objects are built here
 * for this machine's architecture. --fast compresses with gzip -1 (the suite's builds);
 * --skip-build uses the dashboard, addon and XDP objects as they are.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { assemble, buildParts } from './release/assemble.ts';
import { buildDeb, debArch } from './release/deb.ts';

const root = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    out: { type: 'string', default: path.join(root, 'dist') },
    fast: { type: 'boolean', default: false },
    'skip-build': { type: 'boolean', default: false },
  },
});
const version = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
if (!process.version.startsWith('v24.')) {
  console.error(`release: Node 24 must run this (it ships the running Node), not ${process.version}`);
  process.exit(1);
}
const out = path.resolve(values.out);
const work = mkdtempSync(path.join(tmpdir(), 'catchment-release-'));
try {
  if (!values['skip-build']) buildParts(root);
  const name = `catchment-${version}`;
  const lib = path.join(work, name);
  const made = await assemble(root, lib, process.execPath);
  const arch = debArch();
  const tarball = path.join(out, `${name}-linux-${arch}.tar.gz`);
  execFileSync('mkdir', ['-p', out]);
  execFileSync('tar', [
    '--owner=0',
    '--group=0',
    '-C',
    work,
    '-cf',
    tarball,
    `--use-compress-program=gzip -${values.fast ? 1 : 9}`,
    name,
  ]);
  const deb = buildDeb({ root, lib, version, out, fast: values.fast });
  console.log(
    JSON.stringify({ version, tarball, deb, bundledModules: made.inputs, packagesBesideTheBundle: made.packages }),
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
