import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { Logger, Snapshot } from '@catchment/core';
import type { SteeringTable } from '@catchment/geo';
import type { CookieSecrets } from './cookies.ts';
import { TcpCaps } from './tcp-caps.ts';
import { AnswerThread, type ThreadOptions } from './thread.ts';

/** One answering thread as the server drives it: load, start, drain, blocks, cookies, stop. */
export interface ThreadHandle {
  call<T>(type: string, extra?: Record<string, unknown>): Promise<T>;
  stop(): Promise<void>;
}

/**
 * A worker thread that is replaced when it dies (a bug must cost one thread a moment, not the
 * server its capacity): the replacement loads the current snapshot and binds the shared ports.
 */
function workerHandle(
  spawnWorker: () => Worker,
  log: Logger,
  current: () => { snapshot: Snapshot; steering: SteeringTable } | undefined,
  /** Called when the thread is gone (before a replacement starts). */
  onExit: () => void,
): ThreadHandle {
  let next = 1;
  let stopping = false;
  let started = false;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let w: Worker;
  const call = <T>(type: string, extra: Record<string, unknown> = {}): Promise<T> => {
    const id = next++;
    return new Promise<T>((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      w.postMessage({ type, id, ...extra });
    });
  };
  const attach = () => {
    w = spawnWorker();
    w.on('message', (m: { type: string; id?: number; result?: unknown; error?: string; message?: string }) => {
      if (m.type === 'done' && m.id !== undefined) {
        const p = waiting.get(m.id);
        waiting.delete(m.id);
        if (m.error) p?.reject(new Error(m.error));
        else p?.resolve(m.result);
      }
    });
    w.on('error', (err) => log.error({ err }, 'dns worker failed'));
    w.on('exit', (code) => {
      for (const p of waiting.values()) p.reject(new Error(`worker exited with code ${code}`));
      waiting.clear();
      onExit();
      if (stopping || !started) return;
      log.error({ code }, 'dns worker exited: starting a replacement');
      attach();
      const now = current();
      void (async () => {
        if (now) await call('load', now);
        await call('start');
      })().catch((err) => log.error({ err }, 'replacement dns worker failed to start'));
    });
  };
  attach();
  return {
    async call<T>(type: string, extra: Record<string, unknown> = {}): Promise<T> {
      const r = await call<T>(type, extra);
      if (type === 'start') started = true;
      return r;
    },
    async stop() {
      stopping = true;
      await call('stop').catch(() => undefined);
      await w.terminate();
    },
  };
}

function localHandle(t: AnswerThread): ThreadHandle {
  return {
    async call<T>(type: string, extra: Record<string, unknown> = {}): Promise<T> {
      if (type === 'start') return (await t.start()) as T;
      if (type === 'load') return t.load(extra.snapshot as Snapshot, extra.steering as SteeringTable) as T;
      if (type === 'drain') return t.drain() as T;
      if (type === 'blocks') return t.drainBlocks() as T;
      if (type === 'cookies') return t.setCookies(extra.cookies as CookieSecrets | false) as T;
      throw new Error(`unknown call ${type}`);
    },
    stop: () => t.stop(),
  };
}

/**
 * The answering threads: `workers` worker threads sharing the ports (SO_REUSEPORT), or the
 * calling thread when 0. `opts` is read at each spawn, so a replacement gets the cookie
 * secrets current then; `tcpCaps` is the process-wide TCP counters, one slot per thread.
 */
export function answeringThreads(
  workers: number,
  opts: ThreadOptions,
  tcpCaps: SharedArrayBuffer,
  log: Logger,
  current: () => { snapshot: Snapshot; steering: SteeringTable } | undefined,
): ThreadHandle[] {
  if (workers === 0) {
    const listener = { ...opts.listener, tcpCaps: { buffer: tcpCaps, thread: 0 } };
    return [localHandle(new AnswerThread({ ...opts, listener }))];
  }
  // Workers created from now on get `gc`: each collects within a second of a swap, which is what
  // frees the previous (shared) tables (see worker.ts). The main thread's context is unaffected.
  setFlagsFromString('--expose-gc');
  const threads: ThreadHandle[] = [];
  for (let i = 0; i < workers; i++) {
    const spawnWorker = () => {
      const workerData: ThreadOptions = {
        ...opts,
        listener: { ...opts.listener, tcpCaps: { buffer: tcpCaps, thread: i } },
      };
      // In the release bundle (scripts/release) the worker is plain JavaScript beside this file.
      const file = import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.mjs';
      return new Worker(new URL(file, import.meta.url), { workerData });
    };
    // A dead worker's connections closed without its close handlers: give its places back.
    threads.push(workerHandle(spawnWorker, log, current, () => TcpCaps.reclaim(tcpCaps, i)));
  }
  return threads;
}
