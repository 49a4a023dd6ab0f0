/**
 * The one error type of the CLI's client side: a catalogue code (from the API's
 * problem+json, or the CLI's own: API_UNREACHABLE, USAGE...) and a one-line detail, plus
 * optional field errors listed one per line. Kept free of @catchment/core so that
 * commands which only talk to the API do not load the domain model (startup time).
 */
export class CliError extends Error {
  readonly code: string;
  readonly lines: string[];
  readonly exitCode: number;
  readonly status: number | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: string,
    message: string,
    opts: { lines?: string[]; exitCode?: number; status?: number; details?: Record<string, unknown> } = {},
  ) {
    super(message);
    this.name = 'CliError';
    this.code = code;
    this.lines = opts.lines ?? [];
    this.exitCode = opts.exitCode ?? 1;
    this.status = opts.status;
    this.details = opts.details;
  }

  describe(): string {
    return [`${this.code}: ${this.message}`, ...this.lines.map((l) => `  ${l}`)].join('\n');
  }
}

export const usage = (message: string) => new CliError('USAGE', message, { exitCode: 1 });
