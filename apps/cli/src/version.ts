// The version alone: @catchment/core's index would load typebox, pino and prom-client.
export { VERSION } from '@catchment/core/version';
