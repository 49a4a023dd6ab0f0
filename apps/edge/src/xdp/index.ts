/**
 * XDP direct-server-return shedding, the edge agent's side (issue 6).
 *
 *   const xdp = new XdpDsrApplier({ iface: 'eth0', logger, registry });
 *   follower.on('snapshot', (snap) => xdp.apply(snap, edgeName).catch((err) => logger.error({ err })));
 *   // metrics: xdp.metrics (a prom-client Registry; pass `registry` to share the agent's)
 *   // shutdown: await xdp.close()  (the program stays attached: redirected flows keep flowing)
 *
 * The program and its maps are pinned under /sys/fs/bpf/catchment_<iface>/; a restarted agent
 * or a new program version reuses the maps, so flows survive.
 */
export { addrBytes, addrFamily, addrWords, cidrKey, wordsToText } from './addr.ts';
export { type XdpApplyResult, XdpDsrApplier, type XdpDsrOptions } from './applier.ts';
export { Tools } from './bpftool.ts';
export { type DesiredMaps, desiredMaps } from './desired.ts';
export { readPinnedDsrConfig } from './inspect.ts';
export * from './layout.ts';
export { type AttachMode, type LoadResult, XdpProgram } from './loader.ts';
export { BPF_DIR, type BpfObjects, buildBpf, locateDsrObject } from './object.ts';
