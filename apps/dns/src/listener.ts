import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { createLogger, type Logger } from '@catchment/core/logger';
import { type Address, formatAddress, parseAddress } from '@catchment/geo/tables';
import { BatchUdpSocket } from '@catchment/udp-batch';
import { qtypeSlot } from './qtypes.ts';
import { type ClientAddress, COOKIE_VALID, Responder } from './respond.ts';
import { RRL_DROP, RRL_SEND, Rrl, type RrlOptions } from './rrl.ts';
import { type BlockCount, DROP, drainBlocks, ListenerStats, type StatsDelta } from './stats.ts';
import { TcpCaps, type TcpCapsShare } from './tcp-caps.ts';
import { RCODE } from './wire/constants.ts';
import type { CompiledZones } from './zone/types.ts';

export interface Endpoint {
  address: string;
  port: number;
}

export interface TcpLimits {
  /** A connection with nothing in flight is closed after this long (RFC 7766 §6.2.3). */
  idleMs: number;
  /** A started message must be complete within this long (slowloris). */
  messageMs: number;
  maxConnections: number;
  maxPerClient: number;
  /** Replies queued on one connection before reading pauses (write backpressure). */
  maxQueuedBytes: number;
}

export const DEFAULT_TCP: TcpLimits = {
  idleMs: 10_000,
  messageMs: 5_000,
  maxConnections: 2000,
  maxPerClient: 20,
  maxQueuedBytes: 256 * 1024,
};

export interface ListenerOptions {
  endpoints: Endpoint[];
  tcp: TcpLimits;
  rrl: RrlOptions | undefined;
  /** Several listeners (threads) share the ports through SO_REUSEPORT. */
  reusePort: boolean;
  /** Sample 1 in N queries for the latency histogram (0: off). */
  latencySample: number;
  /** Log 1 in N queries (0: off, the default: per-query logs cost more than answering). */
  queryLogSample?: number;
  /** UDP socket buffers (default 4 MiB; capped by the kernel's rmem_max / wmem_max). */
  udpBufferBytes?: number;
  /** The process-wide TCP counters and this thread's index (default: counters of its own). */
  tcpCaps?: TcpCapsShare;
  /** 'batch': recvmmsg/sendmmsg through @catchment/udp-batch (the caller checked it loads). */
  udpIo?: 'batch' | 'dgram';
}

/**
 * The sockets of one thread: UDP and TCP on every endpoint, answering from the zones it was
 * given. Swapping zones is one assignment between two packets: no query sees half a snapshot.
 */
export class DnsListener {
  readonly responder = new Responder();
  readonly stats = new ListenerStats();
  readonly #opts: ListenerOptions;
  readonly #udp: (UdpSocket | BatchUdpSocket)[] = [];
  readonly #tcp: Server[] = [];
  readonly #conns = new Set<Socket>();
  readonly #caps: TcpCaps;
  readonly #addrCache = new Map<string, ClientAddress>();
  readonly #rrl: Rrl | undefined;
  /** The addon's drop counters are cumulative: what was already reported, per socket. */
  readonly #socketDrops = new WeakMap<BatchUdpSocket, { send: number; oversize: number }>();
  #pendingBlocks: BlockCount[] = [];
  #sample = 0;
  #logCount = 0;
  #log: Logger | undefined;

  constructor(opts: ListenerOptions) {
    this.#opts = opts;
    this.#rrl = opts.rrl && opts.rrl.responsesPerSecond > 0 ? new Rrl(opts.rrl) : undefined;
    const share = opts.tcpCaps ?? { buffer: TcpCaps.buffer(1), thread: 0 };
    this.#caps = new TcpCaps(share, opts.tcp.maxConnections, opts.tcp.maxPerClient);
  }

  setZones(zones: CompiledZones): void {
    // Counters refer to the old tables' blocks: resolve them before the swap.
    this.#pendingBlocks.push(...drainBlocks(this.responder.zones));
    this.responder.zones = zones;
  }

  /** Counters since the last call (the batched sockets' drop counts folded in). */
  drainStats(): StatsDelta {
    const d = this.stats.drain(this.responder.zones);
    for (const sock of this.#udp) {
      if (!(sock instanceof BatchUdpSocket)) continue;
      const st = sock.stats();
      const seen = this.#socketDrops.get(sock) ?? { send: 0, oversize: 0 };
      d.udpDropped.send += st.sendDropped - seen.send;
      d.udpDropped.oversize += st.oversize - seen.oversize;
      this.#socketDrops.set(sock, { send: st.sendDropped, oversize: st.oversize });
    }
    return d;
  }

  drainBlocks(): BlockCount[] {
    const out = [...this.#pendingBlocks, ...drainBlocks(this.responder.zones)];
    this.#pendingBlocks = [];
    return out;
  }

  get tcpConnections(): number {
    return this.#conns.size;
  }

  async start(): Promise<void> {
    for (const ep of this.#opts.endpoints) {
      await this.#listenUdp(ep);
      await this.#listenTcp(ep);
    }
  }

  #client(address: string): ClientAddress {
    let c = this.#addrCache.get(address);
    if (!c) {
      const a: Address | undefined = parseAddress(address);
      c = a ? { family: a.family, bytes: a.bytes } : { family: 4, bytes: new Uint8Array(4) };
      if (this.#addrCache.size > 50_000) this.#addrCache.clear();
      this.#addrCache.set(address, c);
    }
    return c;
  }

  /** Answers one message; counts it. Returns the reply length in responder.out (0: none). */
  #answer(msg: Uint8Array, len: number, client: ClientAddress, tcp: boolean): number {
    const sample = this.#opts.latencySample > 0 && ++this.#sample >= this.#opts.latencySample;
    const t0 = sample ? performance.now() : 0;
    const r = this.responder;
    let n: number;
    try {
      n = r.respond(msg, len, client, tcp);
    } catch {
      // Never reached in tests; a bug in one reply must not take the server down.
      n = 0;
    }
    if (n === 0) return 0;
    const s = this.stats;
    s.rcodes[r.rcode]!++;
    s.qtypes[qtypeSlot(r.q.qnameEnd > 0 ? r.q.qtype : -1)]!++;
    if (r.cookie !== 0) s.cookies[r.cookie]!++;
    if (r.q.ecsFamily !== 0) s.ecs++;
    else s.noEcs++;
    if (r.truncated) s.truncated++;
    if (r.service >= 0) {
      const zones = r.zones!;
      zones.services[r.service]!.answerCounts[r.edge]!++;
      if (r.blockKey >= 0) zones.blockCounts[r.classIdx]!.add(r.blockKey);
    }
    if (sample) {
      this.#sample = 0;
      s.recordLatency((performance.now() - t0) / 1000);
    }
    const every = this.#opts.queryLogSample ?? 0;
    if (every > 0 && ++this.#logCount >= every) {
      this.#logCount = 0;
      this.#logQuery(msg, client, tcp);
    }
    return n;
  }

  #logQuery(msg: Uint8Array, client: ClientAddress, tcp: boolean): void {
    this.#log ??= createLogger('dns-query');
    const r = this.responder;
    const q = r.q;
    const labels: string[] = [];
    for (let i = 0; i < q.labels; i++) {
      const o = q.labelOffsets[i]!;
      labels.push(Buffer.from(msg.subarray(o + 1, o + 1 + msg[o]!)).toString('latin1'));
    }
    this.#log.info(
      {
        client: formatAddress(client),
        transport: tcp ? 'tcp' : 'udp',
        qname: q.qnameEnd > 0 ? `${labels.join('.')}.` : null,
        qtype: q.qnameEnd > 0 ? q.qtype : null,
        rcode: r.rcode,
        ecs: q.ecsFamily !== 0,
        edge: r.service >= 0 ? (r.zones?.services[r.service]?.edges[r.edge] ?? 'anycast') : undefined,
        scope: r.usedEcs ? r.scope : undefined,
      },
      'query',
    );
  }

  /**
   * Answers one UDP query and applies RRL. Returns the reply length in responder.out (0: no
   * reply: not a query we answer, or dropped by RRL).
   */
  #answerUdp(msg: Uint8Array, len: number, client: ClientAddress): number {
    const n = this.#answer(msg, len, client, false);
    if (n === 0) {
      // parseQuery drops only these two; anything else was an exception while answering.
      this.stats.dropped[len < 12 ? DROP.runt : (msg[2]! & 0x80) !== 0 ? DROP.response : DROP.error]!++;
      return 0;
    }
    // A valid server cookie proves the source address is not spoofed (RFC 7873 §5.3): such
    // clients are not rate limited, as in Knot and gdnsd.
    if (!this.#rrl || this.responder.cookie === COOKIE_VALID) return n;
    const rc = this.responder.rcode;
    const kind = rc === RCODE.NOERROR || rc === RCODE.NXDOMAIN ? (rc === RCODE.NOERROR ? 0 : 1) : 2;
    const action = this.#rrl.check(client.family, client.bytes, kind, Date.now());
    if (action === RRL_DROP) {
      this.stats.rrlDropped++;
      return 0;
    }
    if (action !== RRL_SEND) {
      this.stats.rrlSlipped++;
      return slip(this.responder.out, this.responder.q.qnameEnd);
    }
    return n;
  }

  #listenUdp(ep: Endpoint): Promise<void> {
    return this.#opts.udpIo === 'batch' ? this.#listenUdpBatch(ep) : this.#listenUdpDgram(ep);
  }

  /**
   * The fast path: up to 64 datagrams per recvmmsg, one JS call per batch, one sendmmsg for the
   * replies; client addresses are views of the addon's buffer (no string, no allocation).
   */
  async #listenUdpBatch(ep: Endpoint): Promise<void> {
    const family = ep.address.includes(':') ? 6 : 4;
    const clients: ClientAddress[] = [];
    const sock: BatchUdpSocket = new BatchUdpSocket(
      {
        family,
        address: ep.address,
        port: ep.port,
        reusePort: this.#opts.reusePort,
        bufferBytes: this.#opts.udpBufferBytes ?? 4 * 1024 * 1024,
      },
      (count, batch) => {
        const r = this.responder;
        const home = r.out;
        try {
          for (let i = 0; i < count; i++) {
            const len = batch.length(i);
            // Source port 0 cannot be answered; a datagram over a slot was cut by the kernel.
            if (len < 0) continue;
            if (batch.sourcePort(i) === 0) {
              this.stats.dropped[DROP.sourcePort0]!++;
              continue;
            }
            // The reply is written straight into the socket's reply slot (UDP replies fit).
            r.out = batch.replies[i]!;
            const n = this.#answerUdp(batch.slots[i]!, len, clients[i]!);
            if (n > 0) batch.reply(i, n);
          }
        } finally {
          r.out = home;
        }
      },
    );
    for (const bytes of sock.addresses) clients.push({ family, bytes });
    this.#udp.push(sock);
  }

  #listenUdpDgram(ep: Endpoint): Promise<void> {
    const type = ep.address.includes(':') ? 'udp6' : 'udp4';
    const sock = createSocket({
      type,
      reuseAddr: false,
      reusePort: this.#opts.reusePort,
      ipv6Only: type === 'udp6',
      // Replies go to the literal source address: skip dgram's default dns.lookup (a tick per send).
      lookup: (address, _opts, cb) =>
        (cb as (e: null, a: string, f: number) => void)(null, address, type === 'udp6' ? 6 : 4),
    });
    this.#udp.push(sock);
    sock.on('message', (msg, rinfo) => {
      // Source port 0 cannot be answered (and is a classic way to crash naive servers).
      if (rinfo.port === 0) {
        this.stats.dropped[DROP.sourcePort0]!++;
        return;
      }
      const n = this.#answerUdp(msg, msg.length, this.#client(rinfo.address));
      if (n === 0) return;
      // The reply buffer is reused by the next query: send a copy (small pooled allocation).
      const out = Buffer.allocUnsafe(n);
      this.responder.out.copy(out, 0, 0, n);
      sock.send(out, rinfo.port, rinfo.address);
    });
    sock.on('error', () => {});
    return new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.bind({ address: ep.address, port: ep.port, exclusive: true }, () => {
        sock.off('error', reject);
        // A deep receive buffer absorbs bursts (and GC pauses) instead of dropping queries;
        // the kernel caps it at net.core.rmem_max.
        try {
          sock.setRecvBufferSize(this.#opts.udpBufferBytes ?? 4 * 1024 * 1024);
          sock.setSendBufferSize(this.#opts.udpBufferBytes ?? 4 * 1024 * 1024);
        } catch {
          // Keep the system default.
        }
        resolve();
      });
    });
  }

  #listenTcp(ep: Endpoint): Promise<void> {
    const server = createServer({ noDelay: true, allowHalfOpen: false }, (sock) => this.#onConnection(sock));
    this.#tcp.push(server);
    server.on('error', () => {});
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: ep.address, port: ep.port, reusePort: this.#opts.reusePort, ipv6Only: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  #onConnection(sock: Socket): void {
    const limits = this.#opts.tcp;
    const client = this.#client(sock.remoteAddress ?? '');
    const place = this.#caps.acquire(client.bytes);
    if (place < 0) {
      this.stats.tcpRejected++;
      sock.destroy();
      return;
    }
    this.#conns.add(sock);
    let buf: Buffer = Buffer.alloc(0);
    let messageTimer: NodeJS.Timeout | undefined;
    sock.setTimeout(limits.idleMs, () => sock.destroy());
    sock.on('error', () => {});
    sock.on('close', () => {
      clearTimeout(messageTimer);
      this.#conns.delete(sock);
      this.#caps.release(place);
    });
    // Write backpressure: while more than maxQueuedBytes of replies wait for the client, stop
    // answering (queries stay in `buf`) and stop reading; continue on 'drain'.
    let blocked = false;
    const answerBuffered = (): void => {
      // Pipelining (RFC 7766 §6.2.1.1): answer every complete message in the buffer, in order.
      while (buf.length >= 2) {
        if (sock.writableLength > limits.maxQueuedBytes) {
          blocked = true;
          sock.pause();
          return;
        }
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        // This message is complete: its deadline is over (the next one starts its own).
        clearTimeout(messageTimer);
        messageTimer = undefined;
        const n = this.#answer(msg, len, client, true);
        if (n === 0) {
          // A response or a runt: RFC 7766 lets the server close.
          if (len < 12 || (msg[2]! & 0x80) !== 0) {
            sock.destroy();
            return;
          }
          continue;
        }
        const out = Buffer.allocUnsafe(n + 2);
        out.writeUInt16BE(n, 0);
        this.responder.out.copy(out, 2, 0, n);
        sock.write(out);
      }
      // Whole-message deadline: a started message must arrive in full within messageMs of its
      // first byte. It is not restarted by later chunks: one byte every few seconds would
      // otherwise hold the connection (and a place under the caps) for ever (slowloris).
      if (buf.length > 0 && messageTimer === undefined) {
        messageTimer = setTimeout(() => sock.destroy(), limits.messageMs);
      }
    };
    sock.on('drain', () => {
      if (!blocked) return;
      blocked = false;
      answerBuffered();
      if (!blocked && !sock.destroyed) sock.resume();
    });
    sock.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      if (!blocked) answerBuffered();
    });
  }

  async stop(): Promise<void> {
    for (const s of this.#udp) s.close();
    this.#udp.length = 0;
    const closing = this.#tcp.map((srv) => new Promise<void>((r) => srv.close(() => r())));
    for (const c of this.#conns) c.end();
    setTimeout(() => {
      for (const c of this.#conns) c.destroy();
    }, 1000).unref();
    this.#tcp.length = 0;
    await Promise.all(closing);
  }
}

/** RRL slip: header + question, TC set, nothing else (the client retries over TCP). */
function slip(out: Buffer, qnameEnd: number): number {
  out[2] = out[2]! | 0x02;
  out.fill(0, 6, 12);
  if (qnameEnd < 0) {
    out.fill(0, 4, 6);
    return 12;
  }
  return qnameEnd + 4;
}
