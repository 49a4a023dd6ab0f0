/**
 * A UDP socket that receives and sends in batches (recvmmsg/sendmmsg, native addon in
 * native/udp_batch.c). The owner gets one call per batch of datagrams, reads each from its
 * slot and writes each reply into the matching slot; the addon sends them all at once.
 * Nothing is allocated per datagram. Linux only; `loadError()` says why it cannot be used.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';

interface Native {
  open(family: 4 | 6, address: string, port: number, reusePort: boolean, bufferBytes: number): [object, number];
  start(
    handle: object,
    batch: number,
    slot: number,
    input: Uint8Array,
    output: Uint8Array,
    meta: Int32Array,
    addr: Uint8Array,
    onBatch: (count: number) => void,
  ): void;
  close(handle: object): void;
  stats(handle: object): number[];
}

let native: Native | undefined;
let failure: string | undefined;

function load(): Native | undefined {
  if (native || failure) return native;
  if (process.platform !== 'linux') {
    failure = 'recvmmsg/sendmmsg are Linux only';
    return undefined;
  }
  try {
    const path = join(import.meta.dirname, '..', 'build', 'Release', 'udp_batch.node');
    native = createRequire(import.meta.url)(path) as Native;
  } catch (err) {
    failure = `the udp-batch addon is not built (pnpm --filter @catchment/udp-batch build): ${(err as Error).message}`;
  }
  return native;
}

/** Undefined when batched sockets can be used here, else the reason. */
export function loadError(): string | undefined {
  load();
  return failure;
}

export interface BatchSocketOptions {
  family: 4 | 6;
  address: string;
  /** 0 picks a free port (see `port`). */
  port: number;
  /** Share the port with the sockets of other threads (SO_REUSEPORT). */
  reusePort: boolean;
  /** SO_RCVBUF / SO_SNDBUF (capped by the kernel's rmem_max / wmem_max). */
  bufferBytes: number;
  /** Datagrams per system call (at most 256). */
  batch?: number;
  /** Bytes per datagram slot: longer datagrams are counted as oversize and not delivered. */
  slot?: number;
}

export interface BatchSocketStats {
  received: number;
  sent: number;
  /** Replies the kernel would not take (send buffer full, unreachable destination). */
  sendDropped: number;
  oversize: number;
  batches: number;
  errors: number;
}

/** What the owner sees of one batch; valid only during the `onBatch` call. */
export interface Datagrams {
  /** Per slot: a view of the slot (the datagram is `length(i)` bytes of it). */
  readonly slots: Buffer[];
  /** Per slot: a view of the source address (4 bytes for IPv4, 16 for IPv6). */
  readonly addresses: Uint8Array[];
  /** Per slot: where the reply to that datagram is written (as long as a slot). */
  readonly replies: Buffer[];
  /** Datagram length, or -1 for one longer than a slot. */
  length(i: number): number;
  sourcePort(i: number): number;
  /** Sends the first `len` bytes of `replies[i]` to the source of datagram i after the batch. */
  reply(i: number, len: number): void;
}

export class BatchUdpSocket implements Datagrams {
  /** The bound port (the one picked when 0 was asked for). */
  readonly localPort: number;
  readonly slots: Buffer[] = [];
  readonly addresses: Uint8Array[] = [];
  readonly replies: Buffer[] = [];
  readonly #native: Native;
  readonly #handle: object;
  readonly #meta: Int32Array;
  #closed = false;

  constructor(opts: BatchSocketOptions, onBatch: (count: number, batch: Datagrams) => void) {
    const n = load();
    if (!n) throw new Error(failure);
    this.#native = n;
    const batch = opts.batch ?? 64;
    const slot = opts.slot ?? 4096;
    [this.#handle, this.localPort] = n.open(opts.family, opts.address, opts.port, opts.reusePort, opts.bufferBytes);
    const input = Buffer.alloc(batch * slot);
    const output = Buffer.alloc(batch * slot);
    this.#meta = new Int32Array(batch * 4);
    const addr = new Uint8Array(batch * 16);
    const addrLen = opts.family === 4 ? 4 : 16;
    for (let i = 0; i < batch; i++) {
      this.slots.push(input.subarray(i * slot, (i + 1) * slot));
      this.replies.push(output.subarray(i * slot, (i + 1) * slot));
      this.addresses.push(addr.subarray(i * 16, i * 16 + addrLen));
    }
    const deliver = (count: number) => onBatch(count, this);
    n.start(this.#handle, batch, slot, input, output, this.#meta, addr, deliver);
  }

  length(i: number): number {
    return this.#meta[i * 4]!;
  }

  sourcePort(i: number): number {
    return this.#meta[i * 4 + 1]!;
  }

  reply(i: number, len: number): void {
    // The addon ignores lengths outside 1..slot.
    this.#meta[i * 4 + 2] = len;
  }

  stats(): BatchSocketStats {
    const [received, sent, sendDropped, oversize, batches, errors] = this.#native.stats(this.#handle);
    return {
      received: received!,
      sent: sent!,
      sendDropped: sendDropped!,
      oversize: oversize!,
      batches: batches!,
      errors: errors!,
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#native.close(this.#handle);
  }
}
