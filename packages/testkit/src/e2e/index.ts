/** The end-to-end world (every real part on this machine), its probes and its scenario steps. */
export { DE_SUBNETS, digAnswer, digAnswers, FRA_ANSWER, FRA_V4, PREPEND, SERVICE, SUPERNET_V4 } from './probes.ts';
export {
  assertUndoneInReverse,
  type Effects,
  effects,
  latestRun,
  latestVersion,
  publishedAfter,
  runActions,
  stageVerifications,
  waitRunState,
  waitShed,
  waitSteady,
} from './scenario.ts';
export {
  type Controller,
  e2eSteps,
  LAB_EDGES,
  OVERLOADED,
  World,
  type WorldOptions,
  type WorldParts,
} from './world.ts';
