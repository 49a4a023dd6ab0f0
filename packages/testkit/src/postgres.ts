import { execFile, execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.ts';

const run = promisify(execFile);
const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface PostgresCluster {
  /** URL of the `postgres` database; use `createDatabase` for an isolated one per test. */
  url: string;
  port: number;
  createDatabase(name?: string): Promise<string>;
  stop(): Promise<void>;
}

/** PostgreSQL refuses to run as root: run its binaries as the `postgres` user then. */
async function pgRun(bin: string, args: string[]): Promise<void> {
  const asRoot = process.getuid?.() === 0;
  const cmd = asRoot ? 'runuser' : join(PG_BIN, bin);
  const argv = asRoot ? ['-u', 'postgres', '--', join(PG_BIN, bin), ...args] : args;
  await run(cmd, argv, { timeout: 60_000 });
}

let counter = 0;

/**
 * Clusters still running when the process exits (a test killed by its timeout, an
 * uncaught error): stopped synchronously so that no postgres outlives its test.
 */
const running = new Map<string, string>();
process.on('exit', () => {
  for (const [dir, data] of running) {
    const asRoot = process.getuid?.() === 0;
    const argv = ['-D', data, '-m', 'immediate', '-w', 'stop'];
    try {
      if (asRoot)
        execFileSync('runuser', ['-u', 'postgres', '--', join(PG_BIN, 'pg_ctl'), ...argv], { stdio: 'ignore' });
      else execFileSync(join(PG_BIN, 'pg_ctl'), argv, { stdio: 'ignore' });
    } catch {}
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * Starts a throwaway PostgreSQL 15 cluster in a temporary folder, listening on
 * 127.0.0.1 on a free port and on a Unix socket in that folder. `stop` removes it all.
 */
export async function startPostgres(): Promise<PostgresCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'catchment-pg-'));
  if (process.getuid?.() === 0) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const data = join(dir, 'data');
  const port = await freePort();
  const stop = async () => {
    running.delete(dir);
    await pgRun('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  };
  running.set(dir, data);
  try {
    await pgRun('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    await pgRun('pg_ctl', [
      '-D',
      data,
      '-l',
      join(dir, 'log'),
      '-w',
      '-t',
      '60',
      '-o',
      `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`,
      'start',
    ]);
  } catch (err) {
    await stop();
    throw err;
  }
  const base = `postgres://postgres@127.0.0.1:${port}`;
  return {
    url: `${base}/postgres`,
    port,
    async createDatabase(name = `t${process.pid}_${++counter}`) {
      const { default: postgres } = await import('postgres');
      const admin = postgres(`${base}/postgres`, { max: 1, onnotice: () => {} });
      try {
        await admin.unsafe(`create database "${name}"`);
      } finally {
        await admin.end();
      }
      return `${base}/${name}`;
    },
    stop,
  };
}
