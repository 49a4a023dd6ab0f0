export * from './countries.ts';
export * from './explain.ts';
export * from './explainer.ts';
export * from './geodb.ts';
export * from './ip.ts';
export * from './resolvers.ts';
export * from './steering.ts';
export * from './trie.ts';
