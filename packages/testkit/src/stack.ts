import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.ts';
import { tempDir } from './tmp.ts';
import { until } from './wait.ts';

/**
 * The `catchment` command of this checkout, run by this Node as users run it: its launcher,
 * which runs the prebuilt bundle (rebuilt if a source changed), else the TypeScript sources.
 */
export const CATCHMENT_CLI = [
  process.execPath,
  new URL('../../../apps/cli/bin/catchment.mjs', import.meta.url).pathname,
];

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `catchment <args>` to its end (at most 60 s) and returns its exit code and output, whatever
 * the code. The process sees only `env`, over PATH and a HOME that points nowhere (so no contexts
 * file of this machine's user is read); pass process.env in `env` to inherit everything.
 */
export async function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  const [node, main] = CATCHMENT_CLI as [string, string];
  try {
    const { stdout, stderr } = await promisify(execFile)(node, [main, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent', ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

export interface StackProcess {
  child: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM, SIGKILL after 15 s; resolves with the exit code. */
  stop(): Promise<number | null>;
}

export interface Stack {
  dir: string;
  apiUrl: string;
  dnsPort: number;
  /** Base URLs of each part's metrics endpoint (the edge agent's once startEdge ran). */
  metricsUrls: Record<'api' | 'dns' | 'controller', string> & { edge?: string };
  adminToken: string;
  main: StackProcess;
  edge?: StackProcess;
  /** Starts an edge agent (`catchment start --only edge`) for `edge`, following this API. */
  startEdge(edge: string, env?: Record<string, string>): Promise<StackProcess>;
  stop(): Promise<void>;
}

export function spawnLogged(cmd: readonly string[], env: NodeJS.ProcessEnv): StackProcess {
  const [file = '', ...args] = cmd;
  const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  return {
    child,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const [code] = await once(child, 'exit');
      clearTimeout(timer);
      return code as number | null;
    },
  };
}

/**
 * `catchment start` (API, DNS server, controller on PGlite, demo configuration) on free
 * loopback ports in a temporary folder, as an operator runs it; `cmd` runs another build of
 * the command (an installed release). JSON logs (stdout is a pipe), level info.
 */
export async function startStack(opts: { cmd?: readonly string[]; env?: Record<string, string> } = {}): Promise<Stack> {
  const cmd = opts.cmd ?? CATCHMENT_CLI;
  const dir = await tempDir('catchment-stack-');
  const ports = {
    api: await freePort(),
    dns: await freePort(),
    dnsHttp: await freePort(),
    controller: await freePort(),
  };
  const base: NodeJS.ProcessEnv = {
    ...process.env,
    CATCHMENT_DATA_DIR: join(dir.path, 'data'),
    CATCHMENT_LOG_LEVEL: 'info',
  };
  // Not a test process: log as in production.
  delete base.NODE_TEST_CONTEXT;
  const main = spawnLogged([...cmd, 'start'], {
    ...base,
    CATCHMENT_API_PORT: String(ports.api),
    CATCHMENT_DNS_PORT: String(ports.dns),
    CATCHMENT_DNS_HTTP_PORT: String(ports.dnsHttp),
    CATCHMENT_CONTROLLER_PORT: String(ports.controller),
    CATCHMENT_DNS_WORKERS: '1',
    ...opts.env,
  });
  const apiUrl = `http://127.0.0.1:${ports.api}`;
  const procs: StackProcess[] = [main];
  const stop = async () => {
    for (const p of procs.reverse()) await p.stop();
    await dir.remove();
  };
  try {
    const adminToken = await until(
      'the first admin token',
      async () => {
        if (main.child.exitCode !== null) throw new Error(`catchment start exited:\n${main.output()}`);
        return (await readFile(join(dir.path, 'data', 'admin-token'), 'utf8')).trim() || undefined;
      },
      120_000,
    );
    const stack: Stack = {
      dir: dir.path,
      apiUrl,
      dnsPort: ports.dns,
      metricsUrls: {
        api: `${apiUrl}/metrics`,
        dns: `http://127.0.0.1:${ports.dnsHttp}/metrics`,
        controller: `http://127.0.0.1:${ports.controller}/metrics`,
      },
      adminToken,
      main,
      async startEdge(edge, env = {}) {
        const res = await fetch(`${apiUrl}/v1/tokens`, {
          method: 'POST',
          headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ name: `agent-${edge}-${process.pid}`, role: 'agent', scope: `edge:${edge}` }),
        });
        if (res.status !== 201) throw new Error(`token for the edge agent: ${res.status} ${await res.text()}`);
        const { token } = (await res.json()) as { token: string };
        const port = await freePort();
        const p = spawnLogged([...cmd, 'start', '--only', 'edge'], {
          ...base,
          CATCHMENT_EDGE: edge,
          CATCHMENT_API_URL: apiUrl,
          CATCHMENT_API_TOKEN: token,
          CATCHMENT_EDGE_HTTP: `127.0.0.1:${port}`,
          // No BIRD here: the agent keeps running and reports its speaker errors.
          BIRD_SOCKET: join(dir.path, 'no-bird.ctl'),
          BIRD_CONFIG: join(dir.path, 'bird.conf'),
          BIRD_INCLUDE: join(dir.path, 'catchment-bird.conf'),
          ...env,
        });
        procs.push(p);
        stack.edge = p;
        stack.metricsUrls.edge = `http://127.0.0.1:${port}/metrics`;
        await until('the edge agent', async () => {
          if (p.child.exitCode !== null) throw new Error(`edge agent exited:\n${p.output()}`);
          return (await fetch(`http://127.0.0.1:${port}/healthz`)).ok || undefined;
        });
        return p;
      },
      stop,
    };
    return stack;
  } catch (err) {
    await stop();
    throw err;
  }
}

/** One part's /metrics text (the API's with a token). */
export async function scrape(url: string, token?: string): Promise<string> {
  const res = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return res.text();
}
