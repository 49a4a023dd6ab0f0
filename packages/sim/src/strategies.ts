import type { CatchmentConfig } from '@catchment/core';
import type { ScenarioModel, StrategyName } from './scenario.ts';

/** What each strategy in the comparison table means, as a change to the configuration. */
export const STRATEGY_TEXT: Record<StrategyName, string> = {
  none: 'no action (no playbook)',
  'dns-ttl30': "the playbooks' DNS-shift steps only, service TTL 30 s",
  'dns-ttl60': "the playbooks' DNS-shift steps only, service TTL 60 s",
  'dns-ttl300': "the playbooks' DNS-shift steps only, service TTL 300 s",
  'dns-withdraw': 'DNS shift, then withdrawal of the unicast /24',
  'dns-dsr': 'DNS shift, then DSR shedding',
  full: 'the playbooks as configured',
  scripted: "the scenario's scripted operator actions",
};

const KEEP: Partial<Record<StrategyName, Set<string>>> = {
  'dns-ttl30': new Set(['dns-shift']),
  'dns-ttl60': new Set(['dns-shift']),
  'dns-ttl300': new Set(['dns-shift']),
  'dns-withdraw': new Set(['dns-shift', 'withdraw-unicast']),
  'dns-dsr': new Set(['dns-shift', 'dsr-shed']),
};

const TTL: Partial<Record<StrategyName, number>> = { 'dns-ttl30': 30, 'dns-ttl60': 60, 'dns-ttl300': 300 };

/**
 * The configuration a strategy runs with: the scenario's edge capacities, then the playbooks
 * cut down to the strategy's step kinds (none and scripted: no playbook at all) and, for the
 * DNS-only strategies, the service TTL. The controller runs exactly this configuration.
 */
export function strategyConfig(base: CatchmentConfig, model: ScenarioModel, strategy: StrategyName): CatchmentConfig {
  const cfg = structuredClone(base);
  for (const e of cfg.edges ?? []) {
    const cap = model.edgeCapacity.get(e.name);
    if (cap !== undefined) e.capacity = { ...e.capacity, rps: cap };
  }
  if (strategy === 'none' || strategy === 'scripted') {
    cfg.playbooks = [];
    return cfg;
  }
  const keep = KEEP[strategy];
  if (keep) {
    cfg.playbooks = (cfg.playbooks ?? [])
      .map((p) => ({ ...p, steps: p.steps.filter((s) => keep.has(s.kind)) }))
      .filter((p) => p.steps.length > 0);
  }
  const ttl = TTL[strategy];
  if (ttl !== undefined) {
    for (const s of cfg.services ?? []) if (model.service === undefined || s.name === model.service) s.ttl = ttl;
  }
  return cfg;
}
