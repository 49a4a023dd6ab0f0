import { createLogger, DEFAULT_PORTS, runtimeSettings } from '@catchment/core';
import { migrate, openDatabase } from '@catchment/db';
import { startController } from './index.ts';

/**
 * Standalone controller replica. Environment: DATABASE_URL (else PGlite in
 * CATCHMENT_DATA_DIR), CATCHMENT_PROMETHEUS_URL, CATCHMENT_WEBHOOK_URL,
 * CATCHMENT_CONTROLLER_HOST / CATCHMENT_CONTROLLER_PORT (metrics and health, default
 * 127.0.0.1:8454), CATCHMENT_CONTROLLER_NAME.
 */
const logger = createLogger('controller');
const settings = runtimeSettings();
const env = process.env;
const database = await openDatabase({ url: settings.databaseUrl, dataDir: settings.dataDir });
await migrate(database);
const port = Number(env.CATCHMENT_CONTROLLER_PORT ?? DEFAULT_PORTS.controllerHttp);
const controller = await startController({
  database,
  logger,
  ...(env.CATCHMENT_CONTROLLER_NAME ? { name: env.CATCHMENT_CONTROLLER_NAME } : {}),
  ...(env.CATCHMENT_PROMETHEUS_URL ? { prometheusUrl: env.CATCHMENT_PROMETHEUS_URL } : {}),
  ...(env.CATCHMENT_WEBHOOK_URL ? { webhookUrl: env.CATCHMENT_WEBHOOK_URL } : {}),
  ...(env.CATCHMENT_CONTROLLER_TICK ? { tickSchedule: env.CATCHMENT_CONTROLLER_TICK } : {}),
  http: {
    host: env.CATCHMENT_CONTROLLER_HOST ?? '127.0.0.1',
    port: Number.isInteger(port) ? port : DEFAULT_PORTS.controllerHttp,
  },
});
logger.info({ port: controller.httpPort, database: database.location }, 'controller running');

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    controller
      .stop()
      .then(() => database.close())
      .then(() => process.exit(0))
      .catch((err: Error) => {
        logger.error({ err: err.message }, 'shutdown failed');
        process.exit(1);
      });
  });
}
