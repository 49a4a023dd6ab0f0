import { parentPort, workerData } from 'node:worker_threads';
import type { Snapshot } from '@catchment/core';
import type { SteeringTable } from '@catchment/geo';
import { AnswerThread, type ThreadOptions } from './thread.ts';

/** Worker thread entry: messages from the server drive one AnswerThread. */
const port = parentPort;
if (!port) throw new Error('worker.ts runs only as a worker thread');
const thread = new AnswerThread(workerData as ThreadOptions);
/**
 * Exposed by the server (setFlagsFromString before starting workers). After a swap the previous
 * tables are garbage, but their SharedArrayBuffers count towards no isolate's heap limits, and the
 * query path allocates almost nothing: without an explicit collection a worker kept old tables
 * alive for many swaps (measured: +330 MB over 50 swaps with a full-size City database).
 */
const gc = (globalThis as { gc?: () => void }).gc;

port.on('message', async (m: { type: string; id: number; snapshot?: Snapshot; steering?: SteeringTable }) => {
  try {
    if (m.type === 'start') {
      await thread.start();
      port.postMessage({ type: 'done', id: m.id });
    } else if (m.type === 'load') {
      const result = thread.load(m.snapshot!, m.steering!);
      port.postMessage({ type: 'done', id: m.id, result });
      // After the reply, so that the swap is not delayed by the collection.
      if (gc) setImmediate(gc);
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
});
