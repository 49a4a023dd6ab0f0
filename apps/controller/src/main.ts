import { createLogger, runtimeSettings } from '@catchment/core';
import { migrate, openDatabase } from '@catchment/db';
import { controllerEnvOptions } from './env.ts';
import { startController } from './index.ts';

/**
 * Standalone controller replica. Environment: DATABASE_URL (else PGlite in
 * CATCHMENT_DATA_DIR), CATCHMENT_PROMETHEUS_URL, CATCHMENT_WEBHOOK_URL,
 * CATCHMENT_CONTROLLER_HOST / CATCHMENT_CONTROLLER_PORT (metrics and health, default
 * 127.0.0.1:8454), CATCHMENT_CONTROLLER_NAME.
 */
const logger = createLogger('controller');
const settings = runtimeSettings();
const database = await openDatabase({ url: settings.databaseUrl, dataDir: settings.dataDir });
await migrate(database);
const controller = await startController({ database, logger, ...controllerEnvOptions() });
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
