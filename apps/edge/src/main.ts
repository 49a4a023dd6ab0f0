#!/usr/bin/env node
import { createLogger } from '@catchment/core';
import { type EdgeAgent, startEdgeAgent } from './agent.ts';
import { agentOptionsFromEnv } from './config.ts';

/** The edge agent as a process: settings from the environment, graceful stop on SIGTERM/SIGINT. */
const log = createLogger('edge');
let agent: EdgeAgent | undefined;
let stopping: string | undefined;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = signal;
  if (!agent) return; // still starting: stopped as soon as it is up
  log.info({ signal }, 'stopping (routes stay announced)');
  agent.stop().then(
    () => process.exit(0),
    (err) => {
      log.error({ err }, 'error while stopping');
      process.exit(1);
    },
  );
};
// Handlers first: a signal during start-up must still stop the agent gracefully.
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
try {
  const opts = agentOptionsFromEnv();
  agent = await startEdgeAgent({ ...opts, logger: log.child({ edge: opts.edge }) });
  log.info(
    { edge: opts.edge, http: agent.httpUrl, speaker: opts.speaker.kind, load: opts.load?.source.description ?? null },
    'edge agent started',
  );
  if (stopping) {
    const signal = stopping;
    stopping = undefined;
    stop(signal);
  }
} catch (err) {
  log.fatal({ err: (err as Error).message }, 'edge agent cannot start');
  process.exit(1);
}
