import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * DNSSEC key material (RFC 4034, RFC 6605, RFC 8080): generation with node:crypto, the DNSKEY
 * and DS record data, key tags, and the encryption of private keys at rest.
 */
export const DNSSEC_ALGORITHMS = { ECDSAP256SHA256: 13, ED25519: 15 } as const;
export type DnssecAlgorithm = 13 | 15;
export const ALGORITHM_NAMES: Record<DnssecAlgorithm, keyof typeof DNSSEC_ALGORITHMS> = {
  13: 'ECDSAP256SHA256',
  15: 'ED25519',
};

/** DNSKEY flags: ZONE (256) for a ZSK, ZONE|SEP (257) for a KSK or CSK. */
export const FLAGS_ZSK = 256;
export const FLAGS_KSK = 257;

export interface GeneratedKey {
  /** The DNSKEY public key field: P-256 x||y (64 bytes) or the Ed25519 point (32 bytes). */
  publicKey: Buffer;
  /** PKCS#8 DER of the private key. */
  privateKey: Buffer;
}

export function generateDnssecKey(algorithm: DnssecAlgorithm): GeneratedKey {
  const pair =
    algorithm === 13 ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' }) : generateKeyPairSync('ed25519');
  return {
    publicKey: dnskeyPublicKey(pair.publicKey, algorithm),
    privateKey: pair.privateKey.export({ format: 'der', type: 'pkcs8' }),
  };
}

function dnskeyPublicKey(key: KeyObject, algorithm: DnssecAlgorithm): Buffer {
  const jwk = key.export({ format: 'jwk' });
  const x = Buffer.from(jwk.x!, 'base64url');
  return algorithm === 13 ? Buffer.concat([x, Buffer.from(jwk.y!, 'base64url')]) : x;
}

/** A private KeyObject from PKCS#8 DER. */
export function privateKeyObject(der: Buffer): KeyObject {
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

/** DNSKEY RDATA: flags, protocol 3, algorithm, public key (RFC 4034 §2.1). */
export function dnskeyRdata(flags: number, algorithm: number, publicKey: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(flags, 0);
  head[2] = 3;
  head[3] = algorithm;
  return Buffer.concat([head, publicKey]);
}

/** Key tag of a DNSKEY RDATA (RFC 4034 Appendix B). */
export function keyTag(rdata: Buffer): number {
  let ac = 0;
  for (let i = 0; i < rdata.length; i++) ac += i & 1 ? rdata[i]! : rdata[i]! << 8;
  ac += (ac >> 16) & 0xffff;
  return ac & 0xffff;
}

/** A name as canonical wire bytes (lower case, uncompressed, RFC 4034 §6.2). */
export function canonicalName(name: string): Buffer {
  const n = name.toLowerCase().replace(/\.$/, '');
  if (n === '') return Buffer.from([0]);
  const parts: Buffer[] = [];
  for (const label of n.split('.')) {
    const b = Buffer.from(label, 'latin1');
    parts.push(Buffer.from([b.length]), b);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** DS RDATA with SHA-256 (digest type 2, RFC 4509) for a DNSKEY of `zone`. */
export function dsRdata(zone: string, dnskey: Buffer): Buffer {
  const digest = createHash('sha256').update(canonicalName(zone)).update(dnskey).digest();
  const head = Buffer.alloc(4);
  head.writeUInt16BE(keyTag(dnskey), 0);
  head[2] = dnskey[3]!;
  head[3] = 2;
  return Buffer.concat([head, digest]);
}

/** DS in presentation format: `<tag> <alg> 2 <HEX>`. */
export function dsText(zone: string, dnskey: Buffer): string {
  const ds = dsRdata(zone, dnskey);
  return `${ds.readUInt16BE(0)} ${ds[2]} ${ds[3]} ${ds.subarray(4).toString('hex').toUpperCase()}`;
}

/** DNSKEY in presentation format: `<flags> 3 <alg> <base64>`. */
export function dnskeyText(flags: number, algorithm: number, publicKey: Buffer): string {
  return `${flags} 3 ${algorithm} ${publicKey.toString('base64')}`;
}

/**
 * The key-encryption key (KEK): 32 bytes, given as 64 hex digits or base64 in
 * CATCHMENT_DNSSEC_KEK, or in the file named by CATCHMENT_DNSSEC_KEK_FILE. Undefined when neither
 * is set; an error when the value is not 32 bytes.
 */
export function loadKek(env: NodeJS.ProcessEnv = process.env): Buffer | undefined {
  const file = env.CATCHMENT_DNSSEC_KEK_FILE;
  const text = env.CATCHMENT_DNSSEC_KEK ?? (file ? readFileSync(file, 'utf8') : undefined);
  if (text === undefined) return undefined;
  return parseKek(text.trim(), file ? `file ${file}` : 'CATCHMENT_DNSSEC_KEK');
}

export function parseKek(text: string, source = 'key-encryption key'): Buffer {
  const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (key.length !== 32)
    throw new Error(`${source}: a DNSSEC key-encryption key is 32 bytes (64 hex digits or base64)`);
  return key;
}

/** Short identifier of a KEK (first 8 hex digits of its SHA-256), stored beside each ciphertext. */
export function kekId(kek: Buffer): string {
  return createHash('sha256').update(kek).digest('hex').slice(0, 8);
}

/**
 * Encrypts a private key with AES-256-GCM under the KEK. The zone and key tag are bound as
 * additional data, so a ciphertext moved to another key's row does not decrypt.
 * Format: `v1:<kek id>:<iv>:<tag>:<ciphertext>` (base64 parts).
 */
export function encryptPrivateKey(kek: Buffer, plain: Buffer, aad: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', kek, iv);
  c.setAAD(Buffer.from(aad));
  const data = Buffer.concat([c.update(plain), c.final()]);
  return ['v1', kekId(kek), iv.toString('base64'), c.getAuthTag().toString('base64'), data.toString('base64')].join(
    ':',
  );
}

export function decryptPrivateKey(kek: Buffer, blob: string, aad: string): Buffer {
  const [v, id, iv, tag, data] = blob.split(':');
  if (v !== 'v1' || !iv || !tag || data === undefined) throw new Error('not an encrypted DNSSEC key (v1)');
  if (id !== kekId(kek)) throw new Error(`the key was encrypted with KEK ${id}, not with this one (${kekId(kek)})`);
  const d = createDecipheriv('aes-256-gcm', kek, Buffer.from(iv, 'base64'));
  d.setAAD(Buffer.from(aad));
  d.setAuthTag(Buffer.from(tag, 'base64'));
  return Buffer.concat([d.update(Buffer.from(data, 'base64')), d.final()]);
}

/** The additional data bound to a key's ciphertext. */
export const keyAad = (zone: string, tag: number, role: string) => `${zone}/${tag}/${role}`;
