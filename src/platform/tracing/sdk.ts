import { isMainThread } from 'node:worker_threads';
import { markTracingActive, tracingRequested } from './tracing';

let shutdown: (() => Promise<void>) | null = null;

/**
 * Starts the OpenTelemetry Node SDK when OTEL_* asks for traces (see tracing.ts), with the HTTP
 * (incoming and outgoing: webhook attempts carry `traceparent`), pg and ioredis instrumentations.
 * Everything else comes from the standard variables (OTEL_EXPORTER_OTLP_ENDPOINT,
 * OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_TRACES_SAMPLER, OTEL_RESOURCE_ATTRIBUTES…); the service name
 * defaults to resident-messaging-api, or -worker for a worker process or thread. The SDK is loaded
 * only then, so a process without tracing pays nothing for it.
 */
export function startTracing(env: NodeJS.ProcessEnv = process.env): void {
  if (shutdown || !tracingRequested(env)) return;
  /* eslint-disable @typescript-eslint/no-require-imports -- loaded only when tracing is on */
  const { NodeSDK } =
    require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { HttpInstrumentation } =
    require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { PgInstrumentation } =
    require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  const { IORedisInstrumentation } =
    require('@opentelemetry/instrumentation-ioredis') as typeof import('@opentelemetry/instrumentation-ioredis');
  /* eslint-enable @typescript-eslint/no-require-imports */
  // Traces only: metrics are Prometheus's (GET /metrics) and logs pino's. Unless an operator asks
  // for them, the SDK's OTLP metrics and logs (its default) would only cost every request more.
  for (const signal of ['OTEL_METRICS_EXPORTER', 'OTEL_LOGS_EXPORTER']) {
    if (!env[signal]) process.env[signal] = 'none';
  }
  const worker = !isMainThread || /worker\.[jt]s$/.test(process.argv[1] ?? '');
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ?? `resident-messaging-${worker ? 'worker' : 'api'}`,
    instrumentations: [
      new HttpInstrumentation({
        // Probes and scrapes would be most of the traces and tell nothing.
        ignoreIncomingRequestHook: (request) =>
          /^\/(health|metrics)(\/|$|\?)/.test(request.url ?? ''),
      }),
      // Statements and Redis calls only inside a traced request or job, not the loops' polls.
      // No span for a pool checkout: every request has one, and the statement's span tells its wait.
      new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
  markTracingActive();
  shutdown = () => sdk.shutdown();
}

/** Flushes and stops the SDK (on shutdown); nothing when tracing is off. */
export async function stopTracing(): Promise<void> {
  const stop = shutdown;
  shutdown = null;
  markTracingActive(false);
  await stop?.().catch(() => undefined);
}
