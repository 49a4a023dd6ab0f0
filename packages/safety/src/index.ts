// The decision engine's entry point: one prediction, one judge, and the rules they use.
export {
  blastRadius,
  checkBlastRadius,
  checkServiceAnswer,
  resultingAction,
  serviceAnswers,
  servicesLosingAnswer,
} from './blast-radius.ts';
export { checkCapacity, checkMoves } from './capacity.ts';
export { checkConnectionSafety } from './dsr.ts';
export { changeRules, evaluateChange } from './evaluate.ts';
export { automationBlocked, checkHumansWin } from './humans.ts';
export { checkDwell, checkExitHeld, classify, type SignalLevel } from './hysteresis.ts';
export { judge, type Verdict } from './judge.ts';
export {
  checkOverride,
  isOverrideKind,
  type OverrideChange,
  type OverrideKind,
  worldWithOverride,
} from './overrides.ts';
export {
  announcedUnicast,
  ENGINE_DEFAULTS,
  type EngineOptions,
  largestBlockShare,
  type PredictedLoad,
  type Prediction,
  type PredictionResult,
  type Proposal,
  predict,
  predictedLoads,
  spread,
  supersededAction,
  type TargetPrediction,
} from './predict.ts';
export { checkRouteBudget, HOUR_MS, isWithdrawn, routeChangesInLastHour, touchedPrefixes } from './route-budget.ts';
export { announcedBy, checkRoutes } from './routes.ts';
export {
  type Change,
  type EdgeOverrideValue,
  type EdgeStateValue,
  type LoadMove,
  type Refusal,
  type RouteChange,
  SAFETY_RULES,
  type SafetyAction,
  type SafetyEdge,
  type SafetyPrefix,
  type SafetyRule,
  type SafetyService,
  type SafetyWorld,
} from './types.ts';
export {
  actionsAfter,
  COMMUNITIES_SHED_SHARE,
  edgeOf,
  edgeUsable,
  frozenFor,
  headroomRps,
  isShed,
  shedFraction,
  utilisation,
} from './world.ts';
