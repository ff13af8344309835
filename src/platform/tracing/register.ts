/**
 * The first import of each entry point (main.ts, worker.ts): starts OpenTelemetry before the
 * modules it instruments (http, pg, ioredis) are loaded, when OTEL_* asks for traces.
 *
 * The SDK reads its OTEL_* variables from process.env only; those a local `.env` sets (and the
 * environment does not) are copied there first, so `.env` configures traces as it does the rest.
 */
import { readDotEnv } from '../../config/app-config';
import { startTracing } from './sdk';

for (const [name, value] of Object.entries(readDotEnv())) {
  if (name.startsWith('OTEL_') && process.env[name] === undefined) process.env[name] = value;
}
startTracing();
