export { countryCentroid, countryContinent } from './countries.ts';
export { type ExplainInput, type Explanation, explainClient } from './explain.ts';
export { createExplainer } from './explainer.ts';
export { GeoDb, type GeoOptions } from './geodb.ts';
export { parseAddress, parseNetwork } from './ip.ts';
export { distanceKm, loadTargets, shiftPosition } from './resolvers.ts';
export { buildSteering, leafEdge, SteeringBuilder, type SteeringTable, shareSteering } from './steering.ts';
export { steeringChanged } from './steering-inputs.ts';
export { type LookupResult, lookupBits } from './trie.ts';
