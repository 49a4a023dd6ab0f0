import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';

/**
 * Network namespaces for the XDP tests: created with a test-unique prefix and always
 * removed (with every process started inside) by cleanup(), which tests call from
 * t.after / finally so a failed assertion leaves nothing behind.
 */
export function sh(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

export class Netns {
  readonly names: string[] = [];
  readonly prefix: string;

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  add(short: string): string {
    const name = `${this.prefix}${short}`;
    sh('ip', ['netns', 'add', name]);
    this.names.push(name);
    this.run(name, 'ip', ['link', 'set', 'lo', 'up']);
    return name;
  }

  /** Runs a command in a namespace (nsenter: /sys/fs/bpf stays visible). */
  run(ns: string, cmd: string, args: string[], input?: string): string {
    return sh('nsenter', [`--net=/run/netns/${ns}`, cmd, ...args], input);
  }

  ip(ns: string, ...args: string[]): string {
    return this.run(ns, 'ip', args);
  }

  sysctl(ns: string, key: string, value: string | number): void {
    this.run(ns, 'sysctl', ['-qw', `${key}=${value}`]);
  }

  /** A veth pair between two namespaces (or both ends in one). */
  veth(aNs: string, aName: string, bNs: string, bName: string): void {
    sh('ip', ['link', 'add', aName, 'netns', aNs, 'type', 'veth', 'peer', 'name', bName, 'netns', bNs]);
    this.ip(aNs, 'link', 'set', aName, 'up');
    this.ip(bNs, 'link', 'set', bName, 'up');
  }

  ifindex(ns: string, dev: string): number {
    return (JSON.parse(this.ip(ns, '-j', 'link', 'show', 'dev', dev)) as Array<{ ifindex: number }>)[0]!.ifindex;
  }

  macOf(ns: string, dev: string): string {
    return (JSON.parse(this.ip(ns, '-j', 'link', 'show', 'dev', dev)) as Array<{ address: string }>)[0]!.address;
  }

  cleanup(): void {
    for (const ns of this.names.splice(0).reverse()) {
      // Processes in the namespace first (servers, clients), then the namespace.
      try {
        const pids = sh('ip', ['netns', 'pids', ns]).split(/\s+/).filter(Boolean);
        for (const pid of pids) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {}
        }
      } catch {}
      try {
        sh('ip', ['netns', 'del', ns]);
      } catch {}
    }
  }
}

/**
 * A short prefix unique to this test process (interface and namespace names are short):
 * `xdp<tag><pid in base 36>-`. Also removes what a killed earlier run left behind:
 * namespaces and /sys/fs/bpf pins with this pattern whose process no longer exists.
 */
export function uniquePrefix(tag: string): string {
  sweepStale();
  return `xdp${tag}${process.pid.toString(36)}-`;
}

const STALE = /^xdp[a-z]([0-9a-z]+)-/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function sweepStale(): void {
  const stale = (name: string) => {
    const m = STALE.exec(name);
    return m !== null && !alive(Number.parseInt(m[1]!, 36));
  };
  let names: string[] = [];
  try {
    names = sh('ip', ['netns', 'list'])
      .split('\n')
      .map((l) => l.split(' ')[0] ?? '');
  } catch {}
  const leftovers = new Netns('');
  leftovers.names.push(...names.filter(stale));
  leftovers.cleanup();
  try {
    for (const pin of readdirSync('/sys/fs/bpf').filter(stale)) {
      rmSync(`/sys/fs/bpf/${pin}`, { recursive: true, force: true });
    }
  } catch {}
}

/** Processes started in lab namespaces; killAll() (from t.after / finally) stops every one. */
export class Procs {
  readonly children: ChildProcess[] = [];

  /** Starts `cmd args` in the namespace; onLine gets each stdout line. */
  start(ns: string, cmd: string, args: string[], onLine?: (line: string) => void): ChildProcess {
    const child = spawn('nsenter', [`--net=/run/netns/${ns}`, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.push(child);
    if (onLine) createInterface({ input: child.stdout! }).on('line', onLine);
    else child.stdout?.resume();
    child.stderr?.resume();
    return child;
  }

  /** Runs to completion (bounded by timeoutMs) and returns stdout. */
  run(ns: string, cmd: string, args: string[], timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      let out = '';
      const child = this.start(ns, cmd, args, (l) => {
        out += `${l}\n`;
      });
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${cmd} ${args.join(' ')}: timed out`));
      }, timeoutMs);
      child.on('close', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve(out);
        else reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${out}`));
      });
    });
  }

  killAll(): void {
    for (const c of this.children.splice(0)) {
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }
  }
}
