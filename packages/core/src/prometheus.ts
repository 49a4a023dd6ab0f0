import { CatchmentError } from './errors.ts';

/** One instant-vector sample from Prometheus's HTTP API. */
export interface Sample {
  metric: Record<string, string>;
  value: number;
}

/** `GET /api/v1/query`: evaluates PromQL at `time`; a scalar result is one sample without labels. */
export async function promQuery(baseUrl: string, query: string, time?: Date, timeoutMs = 5000): Promise<Sample[]> {
  const url = new URL('api/v1/query', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  url.searchParams.set('query', query);
  if (time) url.searchParams.set('time', (time.getTime() / 1000).toFixed(3));
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const body = (await res.json().catch(() => undefined)) as
    | { status?: string; error?: string; data?: { resultType?: string; result?: unknown } }
    | undefined;
  if (!res.ok || body?.status !== 'success') {
    throw new CatchmentError(
      'VALIDATION_FAILED',
      `Prometheus query failed (${res.status}): ${body?.error ?? 'no answer'}`,
      {
        details: { query },
      },
    );
  }
  const { resultType, result } = body.data ?? {};
  if (resultType === 'scalar' && Array.isArray(result)) return [{ metric: {}, value: Number(result[1]) }];
  if (resultType !== 'vector' || !Array.isArray(result)) return [];
  return (result as { metric: Record<string, string>; value: [number, string] }[])
    .map((r) => ({ metric: r.metric, value: Number(r.value[1]) }))
    .filter((s) => Number.isFinite(s.value));
}
