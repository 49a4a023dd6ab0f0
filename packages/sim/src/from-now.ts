import {
  type ActiveAction,
  type CatchmentConfig,
  CatchmentError,
  type FieldError,
  type SnapshotBody,
} from '@catchment/core';
import { DEFAULTS, type ScenarioDoc, type ScenarioModel, scenarioFrom } from './scenario.ts';

/** What `--from-now` asks: one playbook on one edge, for a while (default one hour). */
export interface FromNowRequest {
  playbook: string;
  edge: string;
  duration?: string;
}

/** The present of a running installation, as packages/db reads it. */
export interface PresentWorld {
  now: Date;
  /** The current configuration (packages/db `exportConfig`). */
  config: CatchmentConfig;
  /** The snapshot body compiled now: each edge's fresh load (null: unknown). */
  body: Pick<SnapshotBody, 'edges'>;
  /** The actions in force now, in the order they apply. */
  actions: ActiveAction[];
}

/** Where a from-now scenario's configuration comes from (its `configPath` in the result). */
export const PRESENT_CONFIG = '(the current configuration)';

export const FROM_NOW_DEFAULT_DURATION = '1h';

/**
 * The public resolvers of a from-now scenario: those that send ECS, sharing the public share.
 * One without ECS is placed by its own address, so it would carry part of every edge's present
 * load to the edge nearest that address, and the run would not start from the present.
 */
const ecsPublic = DEFAULTS.public.filter((r) => r.ecs);
const PRESENT_PUBLIC = ecsPublic.map((r) => ({
  ...r,
  share: r.share / ecsPublic.reduce((n, x) => n + x.share, 0),
}));

/**
 * "What would this playbook do in the next hour": a scenario that starts from the present.
 * Each edge's current load becomes clients in the edge's own country (the simulator's clients
 * are per country; which edge DNS sends them to is then the compiler's decision, as always;
 * public resolvers are the ECS-sending ones, PRESENT_PUBLIC),
 * the actions in force stay in force until their expiry, and the configuration runs with the
 * named playbook alone, in `auto` mode (a dry run takes every step as approved), triggered by
 * its alert on the named edge only. Compared with no action.
 */
export function fromNowScenario(
  world: PresentWorld,
  req: FromNowRequest,
): { model: ScenarioModel; config: CatchmentConfig } {
  const errors: FieldError[] = [];
  const playbook = (world.config.playbooks ?? []).find((p) => p.name === req.playbook);
  if (!playbook) errors.push({ path: '/fromNow/playbook', message: `no playbook ${req.playbook}` });
  const edges = world.config.edges ?? [];
  if (!edges.some((e) => e.name === req.edge)) errors.push({ path: '/fromNow/edge', message: `no edge ${req.edge}` });
  const country = new Map(edges.map((e) => [e.name, e.location.country]));
  const clients: ScenarioDoc['clients'] = world.body.edges.flatMap((e) => {
    const c = country.get(e.name);
    return e.loadRps !== null && e.loadRps > 0 && c ? [{ country: c, rps: e.loadRps }] : [];
  });
  if (clients.length === 0)
    errors.push({
      path: '/fromNow',
      message: 'no edge has a fresh load report: there is no present load to start from',
    });
  if (errors.length > 0 || !playbook)
    throw new CatchmentError('SCENARIO_INVALID', `fromNow has ${errors.length} error(s)`, { errors });

  const alertname = 'alert' in playbook.trigger ? playbook.trigger.alert.alertname : undefined;
  // Checked by the scenario's own schema and rules, like a file.
  const doc = {
    duration: req.duration ?? FROM_NOW_DEFAULT_DURATION,
    start: world.now.toISOString(),
    clients,
    strategies: ['none', 'full'],
    resolvers: { public: PRESENT_PUBLIC },
    ...(alertname ? { alert: { name: alertname } } : {}),
  };
  let model: ScenarioModel;
  try {
    model = scenarioFrom(doc, '.', 'fromNow');
  } catch (err) {
    // The duration is the request's only field the scenario checks: say where it came from.
    if (err instanceof CatchmentError)
      for (const e of err.errors) e.path = e.path === '/duration' ? '/fromNow/duration' : e.path;
    throw err;
  }
  model.configPath = PRESENT_CONFIG;
  model.fromNow = { playbook: playbook.name, edge: req.edge, actions: world.actions };
  const config = structuredClone(world.config);
  config.playbooks = [{ ...structuredClone(playbook), mode: 'auto' }];
  return { model, config };
}
