import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createToken } from '@catchment/api';
import { loadConfigFile } from '@catchment/core';
import { importConfig, migrate, openDatabase, publishSnapshot } from '@catchment/db';
import { CATCHMENT_CLI, freePort, type StackProcess, spawnLogged, until } from '@catchment/testkit';

const run = promisify(execFile);
const DEMO = new URL('../../../config/demo.yaml', import.meta.url).pathname;
/** One DNSSEC key-encryption key for every process of a test (the demo zone is signed). */
export const KEK = randomBytes(32).toString('hex');

/** Migrates the database at `url`, loads the demo configuration, publishes, and makes an admin and an agent token. */
export async function seedDemo(url: string): Promise<{ admin: string; agent: string }> {
  const database = await openDatabase({ url });
  try {
    await migrate(database);
    await importConfig(database.db, await loadConfigFile(DEMO), { actor: 'test', reason: 'seed' });
    await publishSnapshot(database.db, { actor: 'test', kek: Buffer.from(KEK, 'hex') });
    const admin = (await createToken(database.db, { name: `admin-${process.pid}`, role: 'admin' })).token;
    const agent = (await createToken(database.db, { name: `dns-${process.pid}`, role: 'agent' })).token;
    return { admin, agent };
  } finally {
    await database.close();
  }
}

export interface Part extends StackProcess {
  /** The API's base URL, the DNS port or the health port. */
  port: number;
  http: number;
}

function partEnv(dataDir: string, env: Record<string, string>): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = {
    ...process.env,
    CATCHMENT_DATA_DIR: dataDir,
    CATCHMENT_DNSSEC_KEK: KEK,
    CATCHMENT_LOG_LEVEL: 'info',
    ...env,
  };
  delete e.NODE_TEST_CONTEXT;
  return e;
}

/** `catchment start --only api` on `databaseUrl`, on a free port; resolves once it answers /healthz. */
export async function startApiPart(dir: string, name: string, databaseUrl: string): Promise<Part & { url: string }> {
  const port = await freePort();
  const p = spawnLogged(
    [...CATCHMENT_CLI, 'start', '--only', 'api'],
    partEnv(join(dir, name), { DATABASE_URL: databaseUrl, CATCHMENT_API_PORT: String(port) }),
  );
  const url = `http://127.0.0.1:${port}`;
  await until(
    `API ${name}`,
    async () => {
      if (p.child.exitCode !== null) throw new Error(`API ${name} exited:\n${p.output()}`);
      const res = await fetch(`${url}/healthz`).catch(() => undefined);
      await res?.body?.cancel();
      return res?.ok || undefined;
    },
    60_000,
  );
  return { ...p, port, http: port, url };
}

/** `catchment start --only dns` following `apiUrls`; resolves once it answers from a snapshot. */
export async function startDnsPart(dir: string, name: string, apiUrls: string, token: string): Promise<Part> {
  const port = await freePort();
  const http = await freePort();
  const p = spawnLogged(
    [...CATCHMENT_CLI, 'start', '--only', 'dns'],
    partEnv(join(dir, name), {
      CATCHMENT_API_URL: apiUrls,
      CATCHMENT_API_TOKEN: token,
      CATCHMENT_DNS_PORT: String(port),
      CATCHMENT_DNS_HTTP_PORT: String(http),
      CATCHMENT_DNS_WORKERS: '1',
      CATCHMENT_DNS_CONSUMER: `${name}-${process.pid}`,
    }),
  );
  await until(
    `DNS ${name}`,
    async () => {
      if (p.child.exitCode !== null) throw new Error(`DNS ${name} exited:\n${p.output()}`);
      return (await dnsVersion(http)) ?? undefined;
    },
    60_000,
  );
  return { ...p, port, http };
}

/** `catchment start --only controller` on `databaseUrl`. */
export async function startControllerPart(dir: string, name: string, databaseUrl: string): Promise<Part> {
  const http = await freePort();
  const p = spawnLogged(
    [...CATCHMENT_CLI, 'start', '--only', 'controller'],
    partEnv(join(dir, name), {
      DATABASE_URL: databaseUrl,
      CATCHMENT_CONTROLLER_PORT: String(http),
      CATCHMENT_CONTROLLER_NAME: name,
    }),
  );
  await until(
    `controller ${name}`,
    async () => {
      if (p.child.exitCode !== null) throw new Error(`controller ${name} exited:\n${p.output()}`);
      const res = await fetch(`http://127.0.0.1:${http}/healthz`).catch(() => undefined);
      await res?.body?.cancel();
      return res?.ok || undefined;
    },
    60_000,
  );
  return { ...p, port: http, http };
}

/** The snapshot version a DNS server answers from (its /readyz), or null. */
export async function dnsVersion(http: number): Promise<number | null> {
  const res = await fetch(`http://127.0.0.1:${http}/readyz`).catch(() => undefined);
  if (!res) return null;
  const body = (await res.json().catch(() => ({}))) as { snapshotVersion?: number | null };
  return body.snapshotVersion ?? null;
}

/** A controller's view of its leadership (its /readyz), or undefined while it cannot say. */
export async function controllerLeads(http: number): Promise<boolean | undefined> {
  const res = await fetch(`http://127.0.0.1:${http}/readyz`).catch(() => undefined);
  if (!res?.ok) return undefined;
  return ((await res.json()) as { leader?: boolean }).leader;
}

/** One `dig +short` (1 s, one try): the answer lines, or throws when there was none. */
export async function dig(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(port), '+short', '+time=1', '+tries=1', ...args]);
  if (/connection timed out|no servers could be reached/.test(stdout)) throw new Error(`no DNS answer: ${stdout}`);
  return stdout.trim();
}

/** Queries `dig` in a loop until `stop()` (at most `maxMs`); counts answered and unanswered queries. */
export function digLoop(port: number, name: string, maxMs = 180_000) {
  let stopped = false;
  const counts = { answered: 0, failed: 0, errors: [] as string[] };
  const done = (async () => {
    const end = Date.now() + maxMs;
    while (!stopped && Date.now() < end) {
      try {
        const a = await dig(port, name, 'A');
        if (a) counts.answered++;
        else {
          counts.failed++;
          counts.errors.push('empty answer');
        }
      } catch (err) {
        counts.failed++;
        counts.errors.push((err as Error).message.slice(0, 200));
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    counts,
    async stop() {
      stopped = true;
      await done;
      return counts;
    },
  };
}
