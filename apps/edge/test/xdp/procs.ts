import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

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

/** Resolves when `pred` holds, polling every 20 ms; rejects after timeoutMs. */
export async function until(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
