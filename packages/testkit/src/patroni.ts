import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chown, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.ts';
import { tempDir } from './tmp.ts';
import { stopChild, until } from './wait.ts';

const run = promisify(execFile);
const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** Why this machine cannot run a Patroni cluster, or undefined when it can. */
export async function patroniMissing(): Promise<string | undefined> {
  for (const bin of ['patroni', 'etcd']) {
    try {
      await run('sh', ['-c', `command -v ${bin}`]);
    } catch {
      return `${bin} is not installed (Debian packages patroni and etcd-server; scripts/test-deps.sh installs them)`;
    }
  }
  return undefined;
}

export interface PatroniNode {
  name: string;
  pgPort: number;
  apiPort: number;
  /** The Patroni daemon (runs as postgres when the test runs as root). */
  patroni: ChildProcess;
  log(): string;
}

export interface PatroniCluster {
  nodes: PatroniNode[];
  /** `postgres://…h1:p1,h2:p2/postgres?target_session_attrs=read-write` */
  url: string;
  /** A database `name` on the cluster, created through the leader; its multi-host URL. */
  createDatabase(name: string): Promise<string>;
  /** The node whose Patroni says it is the leader (primary), when there is one. */
  leader(): Promise<PatroniNode | undefined>;
  /** A node lost at once: SIGKILL of its Patroni, then of its postmaster (no clean shutdown, no handover). */
  crash(node: PatroniNode): Promise<void>;
  stop(): Promise<void>;
}

const asRoot = () => process.getuid?.() === 0;

async function postgresIds(): Promise<{ uid: number; gid: number } | undefined> {
  if (!asRoot()) return undefined;
  const { stdout: uid } = await run('id', ['-u', 'postgres']);
  const { stdout: gid } = await run('id', ['-g', 'postgres']);
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}

interface Member {
  name: string;
  role: string;
  state: string;
}

/**
 * A one-member etcd and a Patroni cluster of `size` PostgreSQL 15 nodes on loopback, every
 * port free and every file in one temporary folder. Short timings (ttl 10 s, loop_wait 1 s)
 * so a failover takes seconds, not the production defaults' half a minute.
 */
export async function startPatroni(size = 2): Promise<PatroniCluster> {
  const dir = await tempDir('catchment-patroni-');
  const ids = await postgresIds();
  if (ids) await chown(dir.path, ids.uid, ids.gid);
  const procs: ChildProcess[] = [];
  const logs = new Map<ChildProcess, string[]>();
  const capture = (p: ChildProcess) => {
    const lines: string[] = [];
    logs.set(p, lines);
    const push = (b: Buffer) => {
      lines.push(b.toString());
      if (lines.length > 400) lines.splice(0, lines.length - 400);
    };
    p.stdout?.on('data', push);
    p.stderr?.on('data', push);
    procs.push(p);
    return () => lines.join('');
  };
  const etcdClient = await freePort();
  const etcdPeer = await freePort();
  const etcd = spawn(
    'etcd',
    [
      '--name',
      'e1',
      '--data-dir',
      join(dir.path, 'etcd'),
      '--listen-client-urls',
      `http://127.0.0.1:${etcdClient}`,
      '--advertise-client-urls',
      `http://127.0.0.1:${etcdClient}`,
      '--listen-peer-urls',
      `http://127.0.0.1:${etcdPeer}`,
      '--initial-advertise-peer-urls',
      `http://127.0.0.1:${etcdPeer}`,
      '--initial-cluster',
      `e1=http://127.0.0.1:${etcdPeer}`,
      '--listen-metrics-urls',
      '',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const etcdLog = capture(etcd);
  const stop = async () => {
    for (const p of [...procs].reverse()) if (p.exitCode === null && p.signalCode === null) await stopChild(p, 10_000);
    // Postmasters whose Patroni was killed: stopped by their data folder.
    for (const n of nodes) {
      const data = join(dir.path, n.name);
      const pidFile = await readFile(join(data, 'postmaster.pid'), 'utf8').catch(() => '');
      const pid = Number(pidFile.split('\n')[0]);
      if (pid > 0) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
      }
    }
    await dir.remove();
  };
  const nodes: PatroniNode[] = [];
  try {
    await until(
      'etcd',
      async () => {
        if (etcd.exitCode !== null) throw new Error(`etcd exited:\n${etcdLog()}`);
        const res = await fetch(`http://127.0.0.1:${etcdClient}/health`).catch(() => undefined);
        return res?.ok || undefined;
      },
      30_000,
    );
    const pgPorts: number[] = [];
    for (let i = 1; i <= size; i++) {
      const name = `pg${i}`;
      const pgPort = await freePort();
      const apiPort = await freePort();
      pgPorts.push(pgPort);
      const config = join(dir.path, `${name}.yml`);
      await writeFile(config, patroniConfig({ dir: dir.path, name, pgPort, apiPort, etcdClient }));
      if (ids) await chown(config, ids.uid, ids.gid);
      const [cmd, args] = asRoot() ? ['runuser', ['-u', 'postgres', '--', 'patroni', config]] : ['patroni', [config]];
      const patroni = spawn(cmd as string, args as string[], { stdio: ['ignore', 'pipe', 'pipe'] });
      nodes.push({ name, pgPort, apiPort, patroni, log: capture(patroni) });
      // The first node bootstraps alone; the others then clone it (pg_basebackup).
      if (i === 1)
        await waitMember(nodes, etcdLog, (ms) => ms.some((m) => m.role === 'leader' && m.state === 'running'));
    }
    // Every node up, and (with more than one) a synchronous standby named: only that one may be
    // promoted in synchronous mode, so a failover before it exists would wait for the old primary.
    await waitMember(
      nodes,
      etcdLog,
      (ms) =>
        ms.filter((m) => m.state === 'running' || m.state === 'streaming').length === size &&
        (size === 1 || ms.some((m) => m.role === 'sync_standby')),
    );
    const hosts = nodes.map((n) => `127.0.0.1:${n.pgPort}`).join(',');
    const urlOf = (db: string) => `postgres://postgres:catchment@${hosts}/${db}?target_session_attrs=read-write`;
    const cluster: PatroniCluster = {
      nodes,
      url: urlOf('postgres'),
      async createDatabase(name) {
        const { default: postgres } = await import('postgres');
        const admin = postgres(urlOf('postgres'), { max: 1, onnotice: () => {} });
        try {
          await admin.unsafe(`create database "${name}"`);
        } finally {
          await admin.end();
        }
        return urlOf(name);
      },
      async leader() {
        for (const n of nodes) {
          if (n.patroni.exitCode !== null || n.patroni.signalCode !== null) continue;
          const res = await fetch(`http://127.0.0.1:${n.apiPort}/primary`).catch(() => undefined);
          await res?.body?.cancel();
          if (res?.status === 200) return n;
        }
        return undefined;
      },
      async crash(node) {
        const data = join(dir.path, node.name);
        const pid = Number((await readFile(join(data, 'postmaster.pid'), 'utf8')).split('\n')[0]);
        // runuser forwards no SIGKILL: kill Patroni itself, found as runuser's child.
        const patroniPid = asRoot() ? await childOf(node.patroni.pid as number) : node.patroni.pid;
        if (patroniPid) process.kill(patroniPid, 'SIGKILL');
        process.kill(pid, 'SIGKILL');
      },
      stop,
    };
    return cluster;
  } catch (err) {
    const detail = nodes.map((n) => `--- ${n.name}\n${n.log().slice(-3000)}`).join('\n');
    await stop();
    throw new Error(`${(err as Error).message}\n${detail}`);
  }
}

async function childOf(pid: number): Promise<number | undefined> {
  const { stdout } = await run('pgrep', ['-P', String(pid)]).catch(() => ({ stdout: '' }));
  const child = Number(stdout.trim().split('\n')[0]);
  return child > 0 ? child : undefined;
}

async function waitMember(nodes: PatroniNode[], etcdLog: () => string, ok: (ms: Member[]) => boolean): Promise<void> {
  await until(
    'the Patroni cluster',
    async () => {
      for (const n of nodes) {
        if (n.patroni.exitCode !== null) throw new Error(`patroni ${n.name} exited:\n${n.log()}\n${etcdLog()}`);
      }
      const first = nodes[0] as PatroniNode;
      const res = await fetch(`http://127.0.0.1:${first.apiPort}/cluster`).catch(() => undefined);
      if (!res?.ok) return undefined;
      const { members } = (await res.json()) as { members: Member[] };
      return ok(members) || undefined;
    },
    120_000,
    500,
  );
}

function patroniConfig(o: { dir: string; name: string; pgPort: number; apiPort: number; etcdClient: number }): string {
  return `scope: catchment-${process.pid}
name: ${o.name}
log:
  level: INFO
restapi:
  listen: 127.0.0.1:${o.apiPort}
  connect_address: 127.0.0.1:${o.apiPort}
etcd3:
  hosts: 127.0.0.1:${o.etcdClient}
bootstrap:
  dcs:
    ttl: 10
    loop_wait: 1
    retry_timeout: 3
    maximum_lag_on_failover: 1048576
    # A commit waits for the standby: the promoted node has every acknowledged write.
    synchronous_mode: true
    postgresql:
      use_pg_rewind: false
      parameters:
        wal_level: replica
        hot_standby: 'on'
        max_wal_senders: 5
        max_replication_slots: 5
        max_connections: 100
  initdb:
    - encoding: UTF8
    - auth-local: trust
  pg_hba:
    - local all all trust
    - host replication replicator 127.0.0.1/32 trust
    - host all all 127.0.0.1/32 md5
postgresql:
  listen: 127.0.0.1:${o.pgPort}
  connect_address: 127.0.0.1:${o.pgPort}
  data_dir: ${o.dir}/${o.name}
  bin_dir: ${PG_BIN}
  pgpass: ${o.dir}/${o.name}.pgpass
  authentication:
    superuser:
      username: postgres
      password: catchment
    replication:
      username: replicator
      password: replicator
  parameters:
    unix_socket_directories: '${o.dir}'
    fsync: 'off'
    synchronous_commit: 'on'
tags:
  nofailover: false
`;
}
