import { type ChildProcess, spawn } from 'node:child_process';

/**
 * Child processes of one end-to-end world: each keeps the tail of its stderr (shown when a
 * test fails) and every one is stopped by `stopAll()` (SIGTERM, then SIGKILL after a grace
 * period); `killAllSync()` is the last resort on process exit.
 */
export interface Proc {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  tail(): string;
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
}

const live = new Set<Proc>();
const lastResorts = new Set<() => void>();

/**
 * Registers a synchronous cleanup for a test process that ends abruptly (exit, SIGINT, SIGTERM):
 * the children are killed and `fn` runs (e.g. removing pinned BPF objects). Returns the unregister.
 */
export function onAbruptEnd(fn: () => void): () => void {
  lastResorts.add(fn);
  return () => lastResorts.delete(fn);
}

function lastResort() {
  for (const p of live) p.child.kill('SIGKILL');
  for (const fn of lastResorts) {
    try {
      fn();
    } catch {
      // keep going
    }
  }
  lastResorts.clear();
}
process.on('exit', lastResort);
// A test killed by a signal: the BgpLab's handler re-raises it, which would end the process
// without its 'exit' handlers (the testkit's PostgreSQL cluster, these children, the pins);
// exiting here runs them all first.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    lastResort();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

export function startProc(name: string, cmd: string, args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(cmd, args, {
    env: { ...process.env, NODE_TEST_CONTEXT: '', CATCHMENT_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d) => {
    err = (err + d).slice(-3000);
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      live.delete(proc);
      resolve(code);
    });
    child.once('error', () => resolve(-1));
  });
  const proc: Proc = {
    name,
    child,
    exited,
    tail: () => err,
    async stop(signal = 'SIGTERM', graceMs = 5000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      return exited;
    },
  };
  live.add(proc);
  return proc;
}

export function startNode(name: string, script: string, env: Record<string, string>): Proc {
  return startProc(name, process.execPath, [script], env);
}
