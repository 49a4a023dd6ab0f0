/** Types for `siphash` (SipHash-2-4, BSD-2-Clause), which ships none. */
declare module 'siphash' {
  const SipHash: {
    /** key: four little-endian 32-bit words; result: the 64-bit hash as high and low words. */
    hash(key: Uint32Array, message: Uint8Array): { h: number; l: number };
  };
  export default SipHash;
}
