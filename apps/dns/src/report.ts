import type { ApiClient } from '@catchment/api-client';
import type { Logger, Snapshot } from '@catchment/core';
import type { BlockCount } from './stats.ts';

export interface ReportOptions {
  client: ApiClient;
  /** This server's name in the API's consumer list. */
  consumer: string;
  intervalMs?: number;
}

/** Answer counts summed per (client block, edge) over every thread. */
function mergeBlocks(blocks: BlockCount[]): BlockCount[] {
  const merged = new Map<string, BlockCount>();
  for (const b of blocks) {
    const k = `${b.block}|${b.edge}`;
    const m = merged.get(k);
    if (m) m.answers += b.answers;
    else merged.set(k, { ...b });
  }
  return [...merged.values()];
}

/** Sends one interval's load report (answers per client block and edge) to the API; never throws. */
export async function sendReport(
  opts: ReportOptions,
  counts: BlockCount[],
  current: Snapshot | undefined,
  log: Logger,
): Promise<void> {
  const blocks = mergeBlocks(counts);
  const body = {
    consumer: opts.consumer,
    kind: 'dns',
    snapshotVersion: current?.version ?? 0,
    healthy: current !== undefined,
    load: { answers: blocks.reduce((n, b) => n + b.answers, 0) },
    details: { intervalMs: opts.intervalMs ?? 60_000, blocks },
  };
  try {
    // The answer counts of this interval are sent once; on another API URL when the first fails before it answers.
    const res = await opts.client.request('POST', '/v1/reports', { body, timeoutMs: 5000 });
    if (res.status < 200 || res.status >= 300)
      log.warn({ status: res.status, body: res.text.slice(0, 200) }, 'report refused by the API');
  } catch (err) {
    // The API being down never affects answering (static stability).
    log.warn({ err: String(err) }, 'report not delivered');
  }
}
