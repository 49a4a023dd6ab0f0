import { type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger };

/** Structured JSON logs; CATCHMENT_LOG_LEVEL sets the level (default info, silent in tests). */
export function createLogger(name: string, opts: LoggerOptions = {}): Logger {
  const level = process.env.CATCHMENT_LOG_LEVEL ?? (process.env.NODE_TEST_CONTEXT ? 'silent' : 'info');
  return pino({
    name,
    level,
    base: { pid: process.pid },
    redact: { paths: ['token', '*.token', 'req.headers.authorization'], censor: '[redacted]' },
    ...opts,
  });
}
