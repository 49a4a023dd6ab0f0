import { type CatchmentConfig, CatchmentError, type FieldError } from '@catchment/core';
import { type Db, exportConfig } from '@catchment/db';
import { type FromNowRequest, fromNowScenario, PRESENT_CONFIG, type ScenarioModel, scenarioFrom } from '@catchment/sim';
import { readPresent } from './present.ts';

export interface Prepared {
  model: ScenarioModel;
  config: CatchmentConfig;
  fromNow?: { playbook: string; edge: string; at: string };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The scenario of a request, checked by packages/sim's own schema and rules (SCENARIO_INVALID
 * with every error). A document runs on the installation's configuration: a `config` path
 * would name a file on the API's machine, so it is refused.
 */
export function scenarioOf(body: unknown): ScenarioModel {
  const doc = isObject(body) ? body : {};
  const errors: FieldError[] = [];
  if (doc.config !== undefined)
    errors.push({
      path: '/config',
      message: "a scenario sent to the API runs on the installation's configuration; leave config out",
    });
  const { config: _config, ...rest } = doc;
  let model: ScenarioModel | undefined;
  try {
    model = scenarioFrom(isObject(body) ? rest : body, '.', 'the scenario');
  } catch (err) {
    if (!(err instanceof CatchmentError) || err.code !== 'SCENARIO_INVALID') throw err;
    errors.push(...err.errors);
  }
  if (errors.length > 0 || !model)
    throw new CatchmentError('SCENARIO_INVALID', `the scenario has ${errors.length} error(s)`, { errors });
  model.configPath = PRESENT_CONFIG;
  return model;
}

/** The request's scenario and configuration: a document, or one built from the present. */
export async function prepare(db: Db, body: unknown, now: Date): Promise<Prepared> {
  if (isObject(body) && 'fromNow' in body) {
    const req = fromNowRequest(body);
    const { model, config } = fromNowScenario(await readPresent(db, now), req);
    return { model, config, fromNow: { playbook: req.playbook, edge: req.edge, at: now.toISOString() } };
  }
  const model = scenarioOf(body);
  return { model, config: await exportConfig(db) };
}

/** `{ fromNow: { playbook, edge, duration? } }` and nothing else. */
function fromNowRequest(body: Record<string, unknown>): FromNowRequest {
  const errors: FieldError[] = Object.keys(body)
    .filter((k) => k !== 'fromNow')
    .map((k) => ({ path: `/${k}`, message: 'a fromNow request has no other members' }));
  const f = isObject(body.fromNow) ? body.fromNow : {};
  if (!isObject(body.fromNow)) errors.push({ path: '/fromNow', message: 'must be an object' });
  for (const k of ['playbook', 'edge'] as const)
    if (typeof f[k] !== 'string' || f[k] === '') errors.push({ path: `/fromNow/${k}`, message: 'required, a name' });
  if (f.duration !== undefined && typeof f.duration !== 'string')
    errors.push({ path: '/fromNow/duration', message: 'a duration such as 1h or 30m' });
  for (const k of Object.keys(f))
    if (!['playbook', 'edge', 'duration'].includes(k))
      errors.push({ path: `/fromNow/${k}`, message: 'unknown member (playbook, edge, duration)' });
  if (errors.length > 0)
    throw new CatchmentError('SCENARIO_INVALID', `the fromNow request has ${errors.length} error(s)`, { errors });
  return {
    playbook: f.playbook as string,
    edge: f.edge as string,
    ...(typeof f.duration === 'string' ? { duration: f.duration } : {}),
  };
}
