import type { Command } from 'commander';
import { resolveTarget, type Target } from '../client/target.ts';
import { type Format, formatOf } from '../output/format.ts';

export interface Globals {
  target: Target;
  format: Format;
  opts: Record<string, unknown>;
}

/** The global flags (--api-url, --token, --context, -o) of the command being run, resolved. */
export async function globals(cmd: Command): Promise<Globals> {
  const opts = cmd.optsWithGlobals() as Record<string, unknown>;
  const target = await resolveTarget({
    apiUrl: opts.apiUrl as string | undefined,
    token: opts.token as string | undefined,
    context: opts.context as string | undefined,
  });
  return { target, format: formatOf(opts.output as string | undefined), opts };
}

/** The command object commander passes last to an action handler. */
export const commandOf = (args: unknown[]) => args[args.length - 1] as Command;

/** Relative time, short: `3m ago`, `in 2h`. */
export function ago(iso: unknown, now = Date.now()): string {
  if (typeof iso !== 'string') return '-';
  const ms = now - Date.parse(iso);
  if (Number.isNaN(ms)) return '-';
  const abs = Math.abs(ms);
  const text =
    abs < 60_000
      ? `${Math.round(abs / 1000)}s`
      : abs < 3_600_000
        ? `${Math.round(abs / 60_000)}m`
        : abs < 86_400_000
          ? `${Math.round(abs / 3_600_000)}h`
          : `${Math.round(abs / 86_400_000)}d`;
  return ms >= 0 ? `${text} ago` : `in ${text}`;
}
