import { type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger };

/**
 * Structured JSON logs; CATCHMENT_LOG_LEVEL sets the level (default info, silent in
 * tests). Commands whose standard output is data (export) log to standard error.
 */
export function createLogger(name: string, opts: LoggerOptions & { stderr?: boolean } = {}): Logger {
  const { stderr, ...options } = opts;
  const level = process.env.CATCHMENT_LOG_LEVEL ?? (process.env.NODE_TEST_CONTEXT ? 'silent' : 'info');
  return pino(
    {
      name,
      level,
      base: { pid: process.pid },
      redact: { paths: ['token', '*.token', 'req.headers.authorization'], censor: '[redacted]' },
      ...options,
    },
    pino.destination(stderr ? 2 : 1),
  );
}
