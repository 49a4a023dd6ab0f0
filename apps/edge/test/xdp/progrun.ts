import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Netns } from '@catchment/testkit/netns';

/** BPF_PROG_TEST_RUN through `bpftool prog run`, inside a namespace, on one frame. */
export class ProgRunner {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'cx-xdp-run-'));
  readonly netns: Netns;
  readonly ns: string;
  readonly pin: string;
  readonly ifindex: number;

  constructor(netns: Netns, ns: string, pin: string, ifindex: number) {
    this.netns = netns;
    this.ns = ns;
    this.pin = pin;
    this.ifindex = ifindex;
  }

  run(frame: Buffer): { retval: number; out: Buffer } {
    const inFile = path.join(this.dir, 'in');
    const outFile = path.join(this.dir, 'out');
    const ctxFile = path.join(this.dir, 'ctx');
    writeFileSync(inFile, frame);
    rmSync(outFile, { force: true });
    // struct xdp_md: data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex.
    const ctx = Buffer.alloc(24);
    ctx.writeUInt32LE(frame.length, 4);
    ctx.writeUInt32LE(this.ifindex, 12);
    writeFileSync(ctxFile, ctx);
    const res = JSON.parse(
      this.netns.run(this.ns, 'bpftool', [
        '-j',
        'prog',
        'run',
        'pinned',
        this.pin,
        'data_in',
        inFile,
        'data_out',
        outFile,
        'data_size_out',
        '4096',
        'ctx_in',
        ctxFile,
      ]),
    ) as { retval: number };
    return { retval: res.retval, out: readFileSync(outFile) };
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const XDP = { ABORTED: 0, DROP: 1, PASS: 2, TX: 3, REDIRECT: 4 } as const;
