import { parentPort, workerData } from 'node:worker_threads';
import type { Snapshot } from '@catchment/core';
import type { SteeringTable } from '@catchment/geo';
import type { CookieSecrets } from './cookies.ts';
import { AnswerThread, type ThreadOptions } from './thread.ts';

/** Worker thread entry: messages from the server drive one AnswerThread. */
const port = parentPort;
if (!port) throw new Error('worker.ts runs only as a worker thread');
const thread = new AnswerThread(workerData as ThreadOptions);
/**
 * Exposed by the server (setFlagsFromString before starting workers). After a swap the previous
 * tables are garbage, but their SharedArrayBuffers count towards no isolate's heap limits, and the
 * query path allocates almost nothing: without an explicit collection the workers kept old tables
 * alive for many swaps (full-size City database, 2 workers, 160 swaps: RSS +230 to +520 MB and
 * still moving; with it: flat, 649 MB after 5 swaps and after 55).
 */
const gc = (globalThis as { gc?: () => void }).gc;
let collection: NodeJS.Timeout | undefined;
/**
 * A full collection pauses this thread's answering (measured: 13-33 ms with a full-size City
 * table), so at most one per second, within a second of any swap: a burst of swaps costs one.
 */
function collectSoon(): void {
  if (!gc || collection) return;
  collection = setTimeout(() => {
    collection = undefined;
    gc();
  }, 1000);
  collection.unref();
}

port.on(
  'message',
  async (m: {
    type: string;
    id: number;
    snapshot?: Snapshot;
    steering?: SteeringTable;
    cookies?: CookieSecrets | false;
  }) => {
    try {
      if (m.type === 'start') {
        await thread.start();
        port.postMessage({ type: 'done', id: m.id });
      } else if (m.type === 'load') {
        const result = thread.load(m.snapshot!, m.steering!);
        port.postMessage({ type: 'done', id: m.id, result });
        collectSoon();
      } else if (m.type === 'cookies') {
        thread.setCookies(m.cookies!);
        port.postMessage({ type: 'done', id: m.id });
      } else if (m.type === 'drain') {
        port.postMessage({ type: 'done', id: m.id, result: thread.drain() });
      } else if (m.type === 'blocks') {
        port.postMessage({ type: 'done', id: m.id, result: thread.drainBlocks() });
      } else if (m.type === 'stop') {
        await thread.stop();
        port.postMessage({ type: 'done', id: m.id });
        port.close();
      }
    } catch (err) {
      port.postMessage({ type: 'done', id: m.id, error: err instanceof Error ? err.message : String(err) });
    }
  },
);
