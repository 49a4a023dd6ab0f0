import { randomBytes } from 'node:crypto';
import SipHash from 'siphash';

/**
 * DNS cookies (RFC 7873) with interoperable server cookies (RFC 9018): a server cookie is
 * Version 1 | Reserved (3) | Timestamp (4, seconds) | SipHash-2-4(Client Cookie | Version |
 * Reserved | Timestamp | Client IP, Secret). Any server of an anycast set configured with the
 * same secret (Catchment, BIND, Knot, PowerDNS, unbound) verifies what another one issued.
 * Two secrets are accepted (current and previous) so that the secret can be rotated without
 * invalidating the cookies resolvers hold; cookies are issued with the current one.
 */
export const SECRET_BYTES = 16;
/** RFC 9018 §4.3: accept cookies issued up to an hour ago and up to 5 minutes ahead. */
const MAX_AGE_S = 3600;
const MAX_AHEAD_S = 300;
/** §4.3: issue a fresh one when the client's is older than half an hour. */
const RENEW_AFTER_S = 1800;

export interface CookieSecrets {
  /** 32 hex digits; a random secret when absent (fine for a single server). */
  secret?: string;
  /** The secret before the last rotation, still accepted. */
  previousSecret?: string;
}

export function parseSecret(hex: string): Uint8Array {
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error('a DNS cookie secret is 32 hex digits (16 bytes)');
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

export function randomSecret(): string {
  return randomBytes(SECRET_BYTES).toString('hex');
}

function sipKey(secret: Uint8Array): Uint32Array {
  const v = new DataView(secret.buffer, secret.byteOffset, secret.byteLength);
  return Uint32Array.from([0, 4, 8, 12], (o) => v.getUint32(o, true));
}

export class ServerCookies {
  #current: Uint32Array;
  #previous: Uint32Array | undefined;
  /** Hash input: client cookie (8), version and reserved (4), timestamp (4), client IP (4/16). */
  readonly #input = new Uint8Array(32);
  readonly #input4 = this.#input.subarray(0, 20);

  constructor(secrets: CookieSecrets) {
    this.#current = sipKey(parseSecret(secrets.secret ?? randomSecret()));
    this.#previous = secrets.previousSecret ? sipKey(parseSecret(secrets.previousSecret)) : undefined;
  }

  /**
   * Checks the server cookie at msg[serverAt, serverAt + serverLen) for the client cookie at
   * msg[clientAt, clientAt + 8) from `client`.
   */
  valid(
    msg: Uint8Array,
    clientAt: number,
    serverAt: number,
    serverLen: number,
    client: Uint8Array,
    now: number,
  ): boolean {
    if (serverLen !== 16 || msg[serverAt] !== 1) return false;
    const ts =
      ((msg[serverAt + 4]! << 24) | (msg[serverAt + 5]! << 16) | (msg[serverAt + 6]! << 8) | msg[serverAt + 7]!) >>> 0;
    // Serial number arithmetic (RFC 1982) on 32-bit seconds.
    const age = (now - ts) | 0;
    if (age > MAX_AGE_S || age < -MAX_AHEAD_S) return false;
    // The reserved bytes are hashed as received (RFC 9018 §4.2: not enforced to be zero).
    const input = this.#fill(msg, clientAt, serverAt, client);
    for (const key of [this.#current, this.#previous]) {
      if (!key) continue;
      const h = SipHash.hash(key, input);
      if (matches(msg, serverAt + 8, h)) return true;
    }
    return false;
  }

  /** True when a valid cookie issued at msg[serverAt + 4..] is old enough to be replaced. */
  stale(msg: Uint8Array, serverAt: number, now: number): boolean {
    const ts =
      ((msg[serverAt + 4]! << 24) | (msg[serverAt + 5]! << 16) | (msg[serverAt + 6]! << 8) | msg[serverAt + 7]!) >>> 0;
    return ((now - ts) | 0) > RENEW_AFTER_S;
  }

  /** Writes a fresh 16-byte server cookie for the client cookie at msg[clientAt..] into out[at..]. */
  issue(msg: Uint8Array, clientAt: number, client: Uint8Array, now: number, out: Uint8Array, at: number): void {
    out[at] = 1;
    out[at + 1] = 0;
    out[at + 2] = 0;
    out[at + 3] = 0;
    out[at + 4] = now >>> 24;
    out[at + 5] = (now >>> 16) & 0xff;
    out[at + 6] = (now >>> 8) & 0xff;
    out[at + 7] = now & 0xff;
    const h = SipHash.hash(this.#current, this.#fill(msg, clientAt, -1, client, out, at));
    writeHash(out, at + 8, h);
  }

  /** The hash input; the version/reserved/timestamp come from msg[serverAt..] or from out[at..]. */
  #fill(msg: Uint8Array, clientAt: number, serverAt: number, client: Uint8Array, out?: Uint8Array, at = 0): Uint8Array {
    const b = this.#input;
    for (let i = 0; i < 8; i++) b[i] = msg[clientAt + i]!;
    const src = serverAt >= 0 ? msg : out!;
    const from = serverAt >= 0 ? serverAt : at;
    for (let i = 0; i < 8; i++) b[8 + i] = src[from + i]!;
    for (let i = 0; i < client.length; i++) b[16 + i] = client[i]!;
    return client.length === 4 ? this.#input4 : b;
  }
}

/** SipHash's 64-bit result as bytes: little-endian (low word first). */
function writeHash(out: Uint8Array, at: number, h: { h: number; l: number }): void {
  for (let i = 0; i < 4; i++) {
    out[at + i] = (h.l >>> (8 * i)) & 0xff;
    out[at + 4 + i] = (h.h >>> (8 * i)) & 0xff;
  }
}

function matches(b: Uint8Array, at: number, h: { h: number; l: number }): boolean {
  for (let i = 0; i < 4; i++) {
    if (b[at + i] !== ((h.l >>> (8 * i)) & 0xff)) return false;
    if (b[at + 4 + i] !== ((h.h >>> (8 * i)) & 0xff)) return false;
  }
  return true;
}
