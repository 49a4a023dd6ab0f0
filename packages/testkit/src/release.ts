import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = new URL('../../../', import.meta.url).pathname;

export interface Release {
  version: string;
  tarball: string;
  deb: string;
}

/** `pnpm release --fast` into `out`: the tarball and the Debian package of this checkout. */
export async function buildRelease(out: string): Promise<Release> {
  const { stdout } = await run(process.execPath, ['scripts/release.ts', '--fast', '--out', out], {
    cwd: ROOT,
    maxBuffer: 16 << 20,
    timeout: 300_000,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as Release;
}

/** The repository's systemd units (deploy/systemd). */
export const SYSTEMD_UNITS = `${ROOT}deploy/systemd/`;
