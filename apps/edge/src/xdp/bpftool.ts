import { spawn } from 'node:child_process';
import { CatchmentError } from '@catchment/core';

/**
 * Runs bpftool (and ip) with JSON output, inside a network namespace when asked.
 * `nsenter --net` keeps the host's mount namespace, so /sys/fs/bpf stays visible
 * (`ip netns exec` remounts /sys and hides it).
 */
export interface ToolOptions {
  /** Name of a namespace under /run/netns. */
  netns?: string;
  bpftool?: string;
}

export interface BatchResult {
  command: string[];
  output: unknown;
}

const BATCH_CHUNK = 2000;

export class Tools {
  readonly netns: string | undefined;
  readonly bpftoolBin: string;

  constructor(opts: ToolOptions = {}) {
    this.netns = opts.netns;
    this.bpftoolBin = opts.bpftool ?? 'bpftool';
  }

  /** Runs a command in the namespace; resolves stdout, rejects with stderr on failure. */
  exec(cmd: string, args: string[], input?: string): Promise<string> {
    const argv = this.netns ? ['nsenter', `--net=/run/netns/${this.netns}`, cmd, ...args] : [cmd, ...args];
    return new Promise((resolve, reject) => {
      const child = spawn(argv[0]!, argv.slice(1), {
        stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout?.on('data', (d: Buffer) => out.push(d));
      child.stderr?.on('data', (d: Buffer) => err.push(d));
      child.on('error', reject);
      child.on('close', (code) => {
        const stdout = Buffer.concat(out).toString();
        if (code === 0) resolve(stdout);
        else {
          const detail = (Buffer.concat(err).toString() + stdout).trim().split('\n').slice(-6).join('\n');
          reject(
            new CatchmentError('INTERNAL', `${argv.slice(0, 6).join(' ')} failed (${code}): ${detail}`, {
              details: { argv },
            }),
          );
        }
      });
      if (child.stdin) {
        // A failing command may exit before reading: its error is reported by 'close'.
        child.stdin.on('error', () => undefined);
        child.stdin.end(input);
      }
    });
  }

  async bpftool(args: string[]): Promise<string> {
    return this.exec(this.bpftoolBin, args);
  }

  async json<T>(args: string[]): Promise<T> {
    const text = await this.exec(this.bpftoolBin, ['-j', ...args]);
    return JSON.parse(text) as T;
  }

  /** Many commands in one bpftool process (`batch file -`); throws on the first failed one. */
  async batch(lines: string[]): Promise<BatchResult[]> {
    const results: BatchResult[] = [];
    for (let i = 0; i < lines.length; i += BATCH_CHUNK) {
      const text = await this.exec(
        this.bpftoolBin,
        ['-j', 'batch', 'file', '-'],
        `${lines.slice(i, i + BATCH_CHUNK).join('\n')}\n`,
      );
      // bpftool prints one JSON array for the batch.
      const parsed = JSON.parse(text || '[]') as BatchResult[];
      for (const r of parsed) {
        const o = r.output as { error?: string } | null;
        if (o && typeof o === 'object' && 'error' in o) {
          throw new CatchmentError('INTERNAL', `bpftool batch: ${r.command.join(' ')}: ${o.error}`);
        }
      }
      results.push(...parsed);
    }
    return results;
  }
}

export function hexArgs(buf: Buffer): string {
  return `hex ${[...buf].map((b) => b.toString(16).padStart(2, '0')).join(' ')}`;
}

export function fromHexList(list: string[]): Buffer {
  return Buffer.from(list.map((h) => Number.parseInt(h, 16)));
}
