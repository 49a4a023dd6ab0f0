export { addrBytes, addrFamily, addrWords, cidrKey, wordsToText } from './addr.ts';
export { type XdpApplyResult, XdpDsrApplier, type XdpDsrOptions } from './applier.ts';
export { Tools } from './bpftool.ts';
export { type DesiredMaps, desiredMaps } from './desired.ts';
export * from './layout.ts';
export { type AttachMode, type LoadResult, XdpProgram } from './loader.ts';
export { BPF_DIR, type BpfObjects, buildBpf, locateDsrObject } from './object.ts';
