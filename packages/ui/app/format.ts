/** How numbers, times and states are shown, in one place. */
export const pct = (x: number | null | undefined): string =>
  x === null || x === undefined ? '–' : `${Math.round(x * 100)} %`;
/** An objective such as 99.9 % or 99.95 %: rounding to whole percent would show 100 %. */
export const objectivePct = (x: number): string => `${Number((x * 100).toFixed(3))} %`;
export const rps = (x: number | null | undefined): string =>
  x === null || x === undefined ? 'not reported' : `${Intl.NumberFormat('en').format(Math.round(x))} rps`;

export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '–';
  const s = Math.round((now - new Date(iso).getTime()) / 1000);
  if (s < 0) return `in ${until(iso, now)}`;
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export function until(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'no expiry';
  const s = Math.round((new Date(iso).getTime() - now) / 1000);
  if (s <= 0) return 'expired';
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

export const time = (iso: string | null | undefined): string => (iso ? new Date(iso).toLocaleString('en-GB') : '–');

/** Utilisation bands: below the default exit threshold, between, above the enter threshold. */
export function loadLevel(utilisation: number | null, enter = 0.85, exit = 0.7): 'unknown' | 'ok' | 'warm' | 'hot' {
  if (utilisation === null) return 'unknown';
  if (utilisation >= enter) return 'hot';
  if (utilisation >= exit) return 'warm';
  return 'ok';
}

export const json = (v: unknown): string => (v === undefined ? '' : JSON.stringify(v, null, 1));
