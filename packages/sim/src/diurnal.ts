import ct from 'countries-and-timezones';

/**
 * Share of its daily peak a country's demand has at each local hour (index 0 = 00:00), linear
 * between hours. Shape from published measurements of consumer Internet traffic: a peak in the
 * evening (21:00) and a trough around 04:00–05:00 at about 45 % of the peak (Labovitz, Arbor
 * Networks ASERT, "The Internet After Dark", 2009); the hours between are our interpolation.
 */
export const DEFAULT_DIURNAL_CURVE: readonly number[] = [
  0.85, 0.72, 0.6, 0.5, 0.45, 0.45, 0.5, 0.58, 0.65, 0.7, 0.73, 0.76, 0.78, 0.79, 0.8, 0.82, 0.84, 0.86, 0.89, 0.93,
  0.97, 1, 0.98, 0.93,
];

/** The curve's value at a local time in hours (any real: wrapped to the day). */
export function curveAt(curve: readonly number[], localHour: number): number {
  const h = ((localHour % 24) + 24) % 24;
  const i = Math.floor(h);
  const f = h - i;
  return curve[i]! * (1 - f) + curve[(i + 1) % 24]! * f;
}

/** Offset from UTC of an IANA time zone at an instant, in minutes (DST as the zone keeps it). */
function zoneOffsetMin(zone: string, at: Date): number {
  const name = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })
    .formatToParts(at)
    .find((p) => p.type === 'timeZoneName')?.value;
  const m = /GMT([+-])(\d\d):(\d\d)/.exec(name ?? '');
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
}

/**
 * A country's UTC offset at an instant, in minutes. Its time zones come from
 * `countries-and-timezones`; of several (US, RU, AU, BR…), the one whose standard offset is
 * nearest the country's centre of population (its centroid's longitude, 15° per hour), so a
 * country is one time zone; a country the package does not know gets the longitude's offset.
 */
export function countryUtcOffsetMin(code: string, lon: number, at: Date): number {
  const byLon = Math.round((lon / 15) * 60);
  const zones = (ct.getCountry(code)?.timezones ?? []).filter((z) => !z.startsWith('Antarctica/'));
  let best: string | undefined;
  let bestGap = Number.POSITIVE_INFINITY;
  for (const z of zones) {
    const gap = Math.abs((ct.getTimezone(z)?.utcOffset ?? byLon) - byLon);
    if (gap < bestGap) {
      best = z;
      bestGap = gap;
    }
  }
  return best === undefined ? byLon : zoneOffsetMin(best, at);
}

/**
 * Per country, the factor on its clients' load at each second: the curve at the country's local
 * time over the curve at the scenario's start, so the scenario's `rps` is the load at the start.
 * The offsets are taken at the start (a DST change inside a run is not followed).
 */
export function diurnalFactors(
  curve: readonly number[],
  start: Date,
  countries: { code: string; lon: number }[],
): (t: number, out: Float64Array) => void {
  const startHour = start.getUTCHours() + start.getUTCMinutes() / 60 + start.getUTCSeconds() / 3600;
  const local0 = countries.map((c) => startHour + countryUtcOffsetMin(c.code, c.lon, start) / 60);
  const base = local0.map((h) => curveAt(curve, h));
  return (t, out) => {
    for (let c = 0; c < countries.length; c++) out[c] = curveAt(curve, local0[c]! + t / 3600) / base[c]!;
  };
}
