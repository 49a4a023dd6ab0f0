import type { Logger } from '@catchment/core';
import type { EdgeLoad } from './load/source.ts';

export interface EdgeReport {
  consumer: string;
  kind: 'edge';
  /** The edge reported for (the API defaults to the consumer name without its `edge:` prefix). */
  edge?: string;
  snapshotVersion: number | null;
  healthy: boolean;
  /** The edge's load when its load source gave a fresh rate; absent otherwise (never a made-up 0). */
  load?: EdgeLoad;
  details: Record<string, unknown>;
}

/** POST {apiUrl}/v1/reports. Best effort: a failed report is logged and never affects routing. */
export async function sendReport(
  apiUrl: string,
  token: string | undefined,
  report: EdgeReport,
  logger?: Logger,
  timeoutMs = 5000,
): Promise<boolean> {
  try {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(new URL('/v1/reports', apiUrl), {
      method: 'POST',
      headers,
      body: JSON.stringify(report),
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel();
    if (!res.ok) logger?.warn({ status: res.status }, 'report refused by the API');
    return res.ok;
  } catch (err) {
    logger?.debug({ err: (err as Error).message }, 'report not delivered');
    return false;
  }
}
