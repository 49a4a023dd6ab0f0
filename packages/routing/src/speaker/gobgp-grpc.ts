import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { type Community, normaliseCommunities } from '../community.ts';
import type { DesiredAnnouncement } from '../desired.ts';
import { type Prefix, parsePrefix } from '../prefix.ts';
import { type SessionState, SpeakerError, type SpeakerRoute } from './types.ts';

/** Where Debian's golang-github-osrg-gobgp-dev installs GoBGP's API definitions. */
export const GOBGP_PROTO_DIR = '/usr/share/gocode/src/github.com/osrg/gobgp/api';

export function gobgpProtosAvailable(dir = GOBGP_PROTO_DIR): boolean {
  return ['gobgp.proto', 'attribute.proto'].every((f) => existsSync(join(dir, f)));
}

type Obj = Record<string, unknown>;
const ANY = 'type.googleapis.com/apipb.';
const TO_OBJECT = { longs: Number, enums: String, defaults: true, json: true } as const;

/**
 * A small gRPC client for gobgpd's GobgpApi, built at run time from the .proto files the
 * Debian package installs (not copied into this repository). Paths are packed with
 * protobufjs, whose `@type` form handles the google.protobuf.Any attributes.
 */
export class GobgpGrpc {
  readonly #root: protobuf.Root;
  readonly #client: grpc.Client;
  readonly #deadlineMs: number;

  constructor(address: string, protoDir = GOBGP_PROTO_DIR, deadlineMs = 15_000) {
    if (!gobgpProtosAvailable(protoDir)) {
      throw new SpeakerError(
        'SPEAKER_UNREACHABLE',
        `GoBGP's API definitions are not in ${protoDir} (Debian: golang-github-osrg-gobgp-dev)`,
      );
    }
    this.#root = new protobuf.Root();
    this.#root.resolvePath = (_origin, target) => (target.startsWith('google/') ? target : join(protoDir, target));
    this.#root.loadSync(['gobgp.proto', 'attribute.proto'], { keepCase: true });
    this.#root.resolveAll();
    this.#client = new grpc.Client(address, grpc.credentials.createInsecure());
    this.#deadlineMs = deadlineMs;
  }

  #type(name: string): protobuf.Type {
    return this.#root.lookupType(`apipb.${name}`);
  }

  #codec(req: string, res: string) {
    const Req = this.#type(req);
    const Res = res === 'Empty' ? this.#root.lookupType('google.protobuf.Empty') : this.#type(res);
    return {
      serialize: (o: Obj) => Buffer.from(Req.encode(Req.fromObject(o)).finish()),
      deserialize: (b: Buffer) => Res.toObject(Res.decode(b), TO_OBJECT) as Obj,
    };
  }

  #deadline(): grpc.CallOptions {
    return { deadline: Date.now() + this.#deadlineMs };
  }

  #fail(method: string, err: grpc.ServiceError): SpeakerError {
    const code = err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED;
    return new SpeakerError(
      code ? 'SPEAKER_UNREACHABLE' : 'SPEAKER_COMMAND_FAILED',
      `gobgpd ${method}: ${err.details || err.message}`,
    );
  }

  unary(method: string, req: string, res: string, body: Obj): Promise<Obj> {
    const c = this.#codec(req, res);
    return new Promise((resolve, reject) => {
      this.#client.makeUnaryRequest(
        `/apipb.GobgpApi/${method}`,
        c.serialize,
        c.deserialize,
        body,
        this.#deadline(),
        (err, out) => (err ? reject(this.#fail(method, err)) : resolve(out ?? {})),
      );
    });
  }

  serverStream(method: string, req: string, res: string, body: Obj): Promise<Obj[]> {
    const c = this.#codec(req, res);
    return new Promise((resolve, reject) => {
      const out: Obj[] = [];
      const call = this.#client.makeServerStreamRequest(
        `/apipb.GobgpApi/${method}`,
        c.serialize,
        c.deserialize,
        body,
        new grpc.Metadata(),
        this.#deadline(),
      );
      call.on('data', (m: Obj) => out.push(m));
      call.on('error', (err: grpc.ServiceError) => reject(this.#fail(method, err)));
      call.on('end', () => resolve(out));
    });
  }

  clientStream(method: string, req: string, res: string, bodies: Obj[]): Promise<Obj> {
    const c = this.#codec(req, res);
    return new Promise((resolve, reject) => {
      const call = this.#client.makeClientStreamRequest(
        `/apipb.GobgpApi/${method}`,
        c.serialize,
        c.deserialize,
        new grpc.Metadata(),
        this.#deadline(),
        (err, out) => (err ? reject(this.#fail(method, err)) : resolve(out ?? {})),
      );
      for (const b of bodies) call.write(b);
      call.end();
    });
  }

  close(): void {
    this.#client.close();
  }
}

function family(p: Prefix): Obj {
  return { afi: p.family === 4 ? 'AFI_IP' : 'AFI_IP6', safi: 'SAFI_UNICAST' };
}

/** A locally originated path as GoBGP's API wants it (the next hop is rewritten to self towards eBGP peers). */
export function gobgpPath(prefix: Prefix, communities: Community[], withdraw = false): Obj {
  const nlri = { '@type': `${ANY}IPAddressPrefix`, prefix_len: prefix.length, prefix: prefix.text.split('/')[0] };
  const pattrs: Obj[] = [{ '@type': `${ANY}OriginAttribute`, origin: 0 }];
  if (prefix.family === 4) pattrs.push({ '@type': `${ANY}NextHopAttribute`, next_hop: '0.0.0.0' });
  else pattrs.push({ '@type': `${ANY}MpReachNLRIAttribute`, family: family(prefix), next_hops: ['::'], nlris: [nlri] });
  const std = communities.flatMap((c) => (c.kind === 'standard' ? [c.asn * 65536 + c.value] : []));
  const large = communities.flatMap((c) =>
    c.kind === 'large' ? [{ global_admin: c.global, local_data1: c.local1, local_data2: c.local2 }] : [],
  );
  if (std.length > 0) pattrs.push({ '@type': `${ANY}CommunitiesAttribute`, communities: std });
  if (large.length > 0) pattrs.push({ '@type': `${ANY}LargeCommunitiesAttribute`, communities: large });
  return { nlri, pattrs, family: family(prefix), is_withdraw: withdraw };
}

function routeOf(prefix: string, path: Obj): SpeakerRoute {
  const communities: Community[] = [];
  for (const a of (path.pattrs as Obj[] | undefined) ?? []) {
    const t = String(a['@type'] ?? '');
    if (t.endsWith('.CommunitiesAttribute')) {
      for (const n of (a.communities as number[]) ?? [])
        communities.push({ kind: 'standard', asn: n >>> 16, value: n & 0xffff });
    } else if (t.endsWith('.LargeCommunitiesAttribute')) {
      for (const l of (a.communities as Obj[]) ?? []) {
        communities.push({
          kind: 'large',
          global: Number(l.global_admin),
          local1: Number(l.local_data1),
          local2: Number(l.local_data2),
        });
      }
    }
  }
  return { prefix: parsePrefix(prefix), communities: normaliseCommunities(communities) };
}

const LOCAL_NEIGHBOR = new Set(['', '<nil>', '0.0.0.0', '::']);

/** ListPath on the global table (only locally originated paths) or a peer's adj-out. */
export async function gobgpListPaths(api: GobgpGrpc, table: 'GLOBAL' | 'ADJ_OUT', peer = ''): Promise<SpeakerRoute[]> {
  const out: SpeakerRoute[] = [];
  for (const afi of ['AFI_IP', 'AFI_IP6']) {
    const dests = await api.serverStream('ListPath', 'ListPathRequest', 'ListPathResponse', {
      table_type: table,
      name: peer,
      family: { afi, safi: 'SAFI_UNICAST' },
    });
    for (const d of dests) {
      const dest = d.destination as Obj | undefined;
      const paths = (dest?.paths as Obj[] | undefined) ?? [];
      const p = table === 'GLOBAL' ? paths.find((x) => LOCAL_NEIGHBOR.has(String(x.neighbor_ip ?? ''))) : paths[0];
      if (dest && p) out.push(routeOf(String(dest.prefix), p));
    }
  }
  return out;
}

const FSM: Record<string, string> = {
  UNKNOWN: 'Unknown',
  IDLE: 'Idle',
  CONNECT: 'Connect',
  ACTIVE: 'Active',
  OPENSENT: 'OpenSent',
  OPENCONFIRM: 'OpenConfirm',
  ESTABLISHED: 'Established',
};

export async function gobgpPeers(api: GobgpGrpc): Promise<SessionState[]> {
  const peers = await api.serverStream('ListPeer', 'ListPeerRequest', 'ListPeerResponse', {});
  return peers.map((m) => {
    const peer = (m.peer as Obj | undefined) ?? {};
    const conf = (peer.conf as Obj | undefined) ?? {};
    const st = (peer.state as Obj | undefined) ?? {};
    const state = FSM[String(st.session_state ?? 'UNKNOWN')] ?? String(st.session_state);
    return {
      name: String(conf.neighbor_address || st.neighbor_address || '?'),
      established: state === 'Established',
      state,
      info: `AS${conf.peer_asn || st.peer_asn || '?'}`,
    };
  });
}

/** Adds or replaces paths in one client stream; deletes one call per path. */
export async function gobgpAddPaths(api: GobgpGrpc, desired: DesiredAnnouncement[]): Promise<void> {
  const paths = desired.map((d) => gobgpPath(d.prefix, d.communities));
  for (let i = 0; i < paths.length; i += 1000) {
    await api.clientStream('AddPathStream', 'AddPathStreamRequest', 'Empty', [
      { table_type: 'GLOBAL', paths: paths.slice(i, i + 1000) },
    ]);
  }
}

export async function gobgpDeletePaths(api: GobgpGrpc, routes: SpeakerRoute[]): Promise<void> {
  await Promise.all(
    routes.map((r) =>
      api.unary('DeletePath', 'DeletePathRequest', 'Empty', {
        table_type: 'GLOBAL',
        family: family(r.prefix),
        path: gobgpPath(r.prefix, r.communities, true),
      }),
    ),
  );
}
