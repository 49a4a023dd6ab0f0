#!/usr/bin/env node
import { createLogger } from '@catchment/core';
import { startEdgeAgent } from './agent.ts';
import { agentOptionsFromEnv } from './config.ts';

/** The edge agent as a process: settings from the environment, graceful stop on SIGTERM/SIGINT. */
const log = createLogger('edge');
try {
  const opts = agentOptionsFromEnv();
  const agent = await startEdgeAgent({ ...opts, logger: log.child({ edge: opts.edge }) });
  log.info({ edge: opts.edge, http: agent.httpUrl, speaker: opts.speaker.kind }, 'edge agent started');
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping (routes stay announced)');
    agent.stop().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
} catch (err) {
  log.fatal({ err: (err as Error).message }, 'edge agent cannot start');
  process.exit(1);
}
