import {
  type DnssecAlgorithm,
  dnskeyRdata,
  dnskeyText,
  dsText,
  encryptPrivateKey,
  FLAGS_KSK,
  FLAGS_ZSK,
  generateDnssecKey,
  keyAad,
  keyTag,
  type SnapshotDnssec,
  type SnapshotDnssecKey,
} from '@catchment/core';

/** A fixed test key-encryption key (never used outside tests). */
export const TEST_KEK = Buffer.alloc(32, 7);

export interface TestZoneKeys {
  dnssec: SnapshotDnssec;
  /** Trust anchors for validators: the DS and DNSKEY lines of the KSK (or CSK). */
  ds: string[];
  dnskeys: string[];
}

/** Fresh keys for `zone` in the snapshot's form, their private parts encrypted under `kek`. */
export function testZoneKeys(
  zone: string,
  opts: { algorithm?: DnssecAlgorithm; layout?: 'ksk-zsk' | 'csk'; kek?: Buffer; validity?: number } = {},
): TestZoneKeys {
  const algorithm = opts.algorithm ?? 13;
  const kek = opts.kek ?? TEST_KEK;
  const roles: ('ksk' | 'zsk' | 'csk')[] = (opts.layout ?? 'ksk-zsk') === 'csk' ? ['csk'] : ['ksk', 'zsk'];
  const keys: SnapshotDnssecKey[] = roles.map((role) => {
    const flags = role === 'zsk' ? FLAGS_ZSK : FLAGS_KSK;
    const k = generateDnssecKey(algorithm);
    const tag = keyTag(dnskeyRdata(flags, algorithm, k.publicKey));
    return {
      tag,
      role,
      algorithm,
      flags,
      publicKey: k.publicKey.toString('base64'),
      signing: true,
      ds: role !== 'zsk',
      privateKey: encryptPrivateKey(kek, k.privateKey, keyAad(zone, tag, role)),
    };
  });
  const sep = keys.filter((k) => k.role !== 'zsk');
  return {
    dnssec: { validity: opts.validity ?? 14 * 86400, refresh: 7 * 86400, jitter: 3600, keys },
    ds: sep.map(
      (k) => `${zone}. IN DS ${dsText(zone, dnskeyRdata(k.flags, k.algorithm, Buffer.from(k.publicKey, 'base64')))}`,
    ),
    dnskeys: sep.map(
      (k) => `${zone}. IN DNSKEY ${dnskeyText(k.flags, k.algorithm, Buffer.from(k.publicKey, 'base64'))}`,
    ),
  };
}
