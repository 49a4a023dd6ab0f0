import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The repository's bpf/ directory (sources and build.sh). */
export const BPF_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../bpf');

export interface BpfObjects {
  dir: string;
  /** The DSR program. */
  dsr: string;
  /** The empty XDP program (benchmark baseline, veth peers). */
  pass: string;
  /** The DSR program without next-hop caching (benchmark comparison only). */
  dsrNoCache: string;
  /** Native BPF_PROG_TEST_RUN loop for the benchmark. */
  bench: string;
}

/** Builds the objects from source (a no-op when they are up to date) and returns their paths. */
export async function buildBpf(): Promise<BpfObjects> {
  const { stdout } = await run(path.join(BPF_DIR, 'build.sh'), [], { maxBuffer: 1 << 20 });
  const dir = stdout.trim().split('\n').pop()!;
  return objectsIn(dir);
}

export function objectsIn(dir: string): BpfObjects {
  return {
    dir,
    dsr: path.join(dir, 'catchment_dsr.o'),
    pass: path.join(dir, 'xdp_pass.o'),
    dsrNoCache: path.join(dir, 'catchment_dsr_nocache.o'),
    bench: path.join(dir, 'xdp_bench'),
  };
}

/**
 * A given object file, else the built one: built from source in a checkout (a no-op when up to
 * date), the one built with the release in an installed package (it has no sources or clang).
 */
export async function locateDsrObject(given?: string): Promise<string> {
  if (given) {
    if (!existsSync(given)) throw new Error(`XDP object ${given} does not exist`);
    return given;
  }
  if (existsSync(path.join(BPF_DIR, 'build.sh'))) return (await buildBpf()).dsr;
  const shipped = objectsIn(path.join(BPF_DIR, 'build')).dsr;
  if (!existsSync(shipped)) throw new Error(`no XDP object: ${shipped} is missing; set CATCHMENT_EDGE_XDP_OBJECT`);
  return shipped;
}
