import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/**
 * Structured logs: JSON lines (ISO timestamps) for journald and log shippers, or
 * pino-pretty's coloured lines when the output is a terminal. CATCHMENT_LOG_FORMAT=json or
 * pretty forces one; CATCHMENT_LOG_LEVEL sets the level (default info, silent in tests).
 * Commands whose standard output is data (export) log to standard error.
 */
export function createLogger(name: string, opts: LoggerOptions & { stderr?: boolean } = {}): Logger {
  const { stderr, ...options } = opts;
  const level = process.env.CATCHMENT_LOG_LEVEL ?? (process.env.NODE_TEST_CONTEXT ? 'silent' : 'info');
  return pino(
    {
      name,
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ['token', '*.token', 'req.headers.authorization'], censor: '[redacted]' },
      ...options,
    },
    destination(stderr ? 2 : 1),
  );
}

function destination(fd: 1 | 2): DestinationStream {
  const format = process.env.CATCHMENT_LOG_FORMAT;
  if (format !== undefined && format !== '' && format !== 'json' && format !== 'pretty') {
    throw new Error(`CATCHMENT_LOG_FORMAT must be "json" or "pretty", got "${format}"`);
  }
  const tty = fd === 1 ? process.stdout.isTTY : process.stderr.isTTY;
  if (format === 'pretty' || (format !== 'json' && tty)) {
    // In this thread (no transport worker): a bundled release has no module files to load one from.
    return pretty({
      destination: fd,
      sync: true,
      translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l o',
      ignore: 'pid,hostname',
    });
  }
  return pino.destination(fd);
}
