import { EventEmitter } from 'node:events';
import { request } from 'node:http';
import { connect } from 'node:net';

/** A local health check of one service at this edge. */
export interface HealthCheckSpec {
  /** The service (DNS name in the snapshot) whose routes this check guards. */
  service: string;
  kind: 'tcp' | 'http';
  host: string;
  port: number;
  /** HTTP only: path (default /) and accepted status codes (default 200-399). */
  path?: string;
  okStatus?: [number, number];
  intervalMs?: number;
  timeoutMs?: number;
  /** Consecutive failures before the service is down (default 3). */
  fall?: number;
  /** Consecutive successes before it counts as recovered (default 2). */
  rise?: number;
  /** After recovering, how long it must stay healthy before its routes return (default 30 s). */
  dwellMs?: number;
}

export type CheckState = 'up' | 'down' | 'recovering';

export interface CheckStatus {
  service: string;
  target: string;
  state: CheckState;
  since: number;
  lastError: string | undefined;
}

/** One probe: resolves on success, rejects with the reason on failure. */
export async function probe(spec: HealthCheckSpec): Promise<void> {
  const timeout = spec.timeoutMs ?? 1000;
  if (spec.kind === 'tcp') {
    await new Promise<void>((resolve, reject) => {
      const sock = connect({ host: spec.host, port: spec.port, timeout });
      sock.once('connect', () => {
        sock.destroy();
        resolve();
      });
      sock.once('timeout', () => {
        sock.destroy();
        reject(new Error(`connect timed out after ${timeout} ms`));
      });
      sock.once('error', (e) => reject(e));
    });
    return;
  }
  const [lo, hi] = spec.okStatus ?? [200, 399];
  await new Promise<void>((resolve, reject) => {
    const req = request(
      { host: spec.host, port: spec.port, path: spec.path ?? '/', method: 'GET', timeout, agent: false },
      (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        if (code >= lo && code <= hi) resolve();
        else reject(new Error(`HTTP ${code}`));
      },
    );
    req.once('timeout', () => req.destroy(new Error(`HTTP timed out after ${timeout} ms`)));
    req.once('error', reject);
    req.end();
  });
}

/**
 * Runs the checks on their intervals with separate down (fall) and up (rise)
 * thresholds, and a dwell time before a recovered service counts as up again.
 * A check starts 'up' so an agent restart never withdraws anything by itself.
 * Emits 'change' whenever a check's state changes.
 */
interface RunningCheck {
  spec: HealthCheckSpec;
  status: CheckStatus;
  ok: number;
  fail: number;
  timer?: NodeJS.Timeout;
}

export class HealthMonitor extends EventEmitter<{ change: [CheckStatus] }> {
  readonly #checks: RunningCheck[];
  #stopped = false;

  constructor(specs: HealthCheckSpec[]) {
    super();
    this.#checks = specs.map((spec) => ({
      spec,
      status: {
        service: spec.service,
        target: `${spec.kind}://${spec.host.includes(':') ? `[${spec.host}]` : spec.host}:${spec.port}${spec.kind === 'http' ? (spec.path ?? '/') : ''}`,
        state: 'up',
        since: Date.now(),
        lastError: undefined,
      },
      ok: 0,
      fail: 0,
    }));
  }

  start(): void {
    for (const c of this.#checks) this.#schedule(c, 0);
  }

  stop(): void {
    this.#stopped = true;
    for (const c of this.#checks) clearTimeout(c.timer);
  }

  statuses(): CheckStatus[] {
    return this.#checks.map((c) => ({ ...c.status }));
  }

  /** Services whose routes should be withdrawn here: down, or recovered but still dwelling. */
  failingServices(): Set<string> {
    const out = new Set<string>();
    for (const c of this.#checks) if (c.status.state !== 'up') out.add(c.spec.service);
    return out;
  }

  #schedule(c: RunningCheck, delay: number) {
    if (this.#stopped) return;
    c.timer = setTimeout(() => void this.#run(c), delay);
  }

  async #run(c: RunningCheck): Promise<void> {
    const s = c.spec;
    let error: string | undefined;
    try {
      await probe(s);
    } catch (e) {
      error = (e as Error).message || String(e);
    }
    if (this.#stopped) return;
    const now = Date.now();
    const set = (state: CheckState) => {
      c.status = { ...c.status, state, since: now, lastError: error };
      this.emit('change', { ...c.status });
    };
    if (error === undefined) {
      c.ok++;
      c.fail = 0;
      if (c.status.state === 'down' && c.ok >= (s.rise ?? 2)) set('recovering');
      else if (c.status.state === 'recovering' && now - c.status.since >= (s.dwellMs ?? 30_000)) set('up');
    } else {
      c.fail++;
      c.ok = 0;
      c.status.lastError = error;
      if (c.status.state === 'recovering') set('down');
      else if (c.status.state === 'up' && c.fail >= (s.fall ?? 3)) set('down');
    }
    // While dwelling, wake exactly when the dwell ends rather than one interval later.
    const interval = s.intervalMs ?? 2000;
    const dwellLeft = c.status.state === 'recovering' ? c.status.since + (s.dwellMs ?? 30_000) - now : interval;
    this.#schedule(c, Math.max(0, Math.min(interval, dwellLeft)));
  }
}
