export { catalogues, intentsExpressed, resolveIntents, UnknownIntentError } from './catalogue.ts';
export {
  communitySetKey,
  communityTextProblem,
  formatCommunity,
  isWellKnown,
  normaliseCommunities,
  parseCommunity,
  WELL_KNOWN_COMMUNITIES,
} from './community.ts';
export { type DesiredAnnouncement, desiredAnnouncements, isAnnouncer, UnknownEdgeError } from './desired.ts';
export {
  addressPrefix,
  canonicalPrefix,
  comparePrefixes,
  contains,
  covers,
  firstAddress,
  lastAddress,
  longestMatch,
  overlaps,
  parsePrefix,
  prefixProblem,
  size,
  subnets,
  supernet,
} from './prefix.ts';
export {
  type AnnouncementChange,
  announcementChanges,
  checkChanges,
  checkMaxPrefixes,
  checkRouteChangeBudget,
  checkTransition,
  checkWithdrawal,
  DEFAULT_MAX_PREFIXES_PER_SESSION,
  hasHeadroom,
  RouteChangeLog,
  type SafetyVerdict,
} from './safety.ts';
export { BirdSpeaker } from './speaker/bird.ts';
export { birdCommand } from './speaker/bird-control.ts';
export { type BirdRoute, parseBirdRoutes } from './speaker/bird-parse.ts';
export { birdTransitFilter, renderBirdConfig } from './speaker/bird-render.ts';
export { GobgpSpeaker, parseGobgpNeighbors, parseGobgpRib } from './speaker/gobgp.ts';
export { type RouteDiff, type SessionState, type Speaker, SpeakerError } from './speaker/types.ts';
