/**
 * Durations (`30s`, `5m`, `1h`, `250ms`, `2d`): action ttl, playbook dwell / verify /
 * cooldown, SLO windows. One maximum for all of them, so no duration can overflow a
 * date (a `ttl` of `9999999999999d` is past JavaScript's last representable instant).
 */
export const MAX_DURATION_TEXT = '366d';
export const MAX_DURATION_MS = 366 * 86_400_000;

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Why a duration is not acceptable, or undefined. */
export function durationProblem(text: string): string | undefined {
  const m = /^([0-9]{1,15})(ms|s|m|h|d)$/.exec(text);
  if (!m) return `"${text.slice(0, 40)}" is not a duration such as 30s, 5m, 1h`;
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  if (ms > MAX_DURATION_MS) return `${text} is longer than the longest duration, ${MAX_DURATION_TEXT}`;
  return undefined;
}

/** Parses a duration into milliseconds; throws on text `durationProblem` refuses. */
export function parseDuration(text: string): number {
  const problem = durationProblem(text);
  if (problem) throw new Error(`invalid duration: ${problem}`);
  const m = /^([0-9]+)(ms|s|m|h|d)$/.exec(text) as RegExpExecArray;
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}
