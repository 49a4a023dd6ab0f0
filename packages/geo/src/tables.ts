/**
 * The part of @catchment/geo that answering threads need: addresses, the frozen lookup tries and
 * leaf values, without the GeoIP readers, policies' data or explain. Each DNS worker thread
 * imports this instead of the package's index (about 20 MB less per thread).
 */
export * from './ip.ts';
export { EDGE_MASK, leafEdge, MISS } from './steering.ts';
export * from './trie.ts';
