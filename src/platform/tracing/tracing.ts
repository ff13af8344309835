import {
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type SpanContext,
} from '@opentelemetry/api';

/**
 * Traces (OpenTelemetry), for following one message from its request through the outbox to its
 * jobs and webhook attempts. Off unless OTEL_EXPORTER_OTLP_ENDPOINT (or the traces-only
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set: then `startTracing` (src/platform/tracing/register.ts,
 * the first import of each entry point) starts the SDK with the HTTP, pg and ioredis
 * instrumentations, configured by the standard OTEL_* variables only. While it is off, every
 * function here is a no-op of the API's own.
 *
 * The trace context crosses the outbox as a W3C `traceparent` string: the tenant transaction sets
 * it in `rm.traceparent` (transaction-local), the outbox row takes it as its column default, the
 * relay hands it to the jobs, and a webhook delivery keeps the one of its fan-out.
 */
export const tracer = trace.getTracer('resident-messaging');

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** Whether OTEL_* asks for traces (read before anything is loaded: see register.ts). */
export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if ((env.OTEL_SDK_DISABLED ?? '').toLowerCase() === 'true') return false;
  if ((env.OTEL_TRACES_EXPORTER ?? '').toLowerCase() === 'none') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

let active = false;

/** Called by startTracing once the SDK runs: until then the helpers below do nothing at all. */
export function markTracingActive(on = true): void {
  active = on;
}

/** The active span's context as a `traceparent` header value; null when nothing is traced. */
export function currentTraceparent(): string | null {
  const span = active ? trace.getActiveSpan() : undefined;
  return span ? formatTraceparent(span.spanContext()) : null;
}

function formatTraceparent(context: SpanContext): string | null {
  if (!trace.isSpanContextValid(context)) return null;
  const { traceId, spanId, traceFlags } = context;
  return `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, '0')}`;
}

function parentContext(traceparent: string | null | undefined): Context {
  const valid = validTraceparent(traceparent);
  return valid ? propagation.extract(ROOT_CONTEXT, { traceparent: valid }) : ROOT_CONTEXT;
}

/** A `traceparent` value, if well-formed (it is inlined into SQL and read back from rows). */
export function validTraceparent(value: unknown): string | null {
  return typeof value === 'string' && TRACEPARENT.test(value) ? value : null;
}

/**
 * The statement a tenant transaction's BEGIN carries when its request or job is traced: it sets
 * `rm.traceparent` for the transaction, and the outbox events it writes keep it (their column's
 * default). Empty when nothing is traced, so an untraced transaction sends nothing more.
 */
export function traceparentStatement(): string {
  const traceparent = currentTraceparent();
  // Well-formed by construction (hex and dashes only): safe to inline.
  return traceparent ? `; select set_config('rm.traceparent', '${traceparent}', true)` : '';
}

/**
 * Names the HTTP server span of a request after its route template (`POST /api/v1/…/:id/messages`,
 * and `http.route`): the HTTP instrumentation knows only the method. Never the URL's ids.
 */
export function nameServerSpan(method: string, route: string | undefined): void {
  const span = active ? trace.getActiveSpan() : undefined;
  if (!span || !route) return;
  span.updateName(`${method} ${route}`);
  span.setAttribute('http.route', route);
}

/** The trace and span id of the active span, for log lines (pino's mixin); empty when none. */
export function traceLogFields(): { trace_id?: string; span_id?: string } {
  const span = active ? trace.getActiveSpan() : undefined;
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

/**
 * Runs `fn` in a new span continuing the trace of `traceparent` (a new trace when it is null or
 * malformed: work nobody traced starts its own). The span ends when `fn` settles, with an error
 * status if it threw.
 */
export function inSpan<T>(
  name: string,
  traceparent: string | null | undefined,
  options: { kind?: SpanKind; attributes?: Attributes },
  fn: () => Promise<T>,
): Promise<T> {
  if (!active) return fn();
  return tracer.startActiveSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes },
    parentContext(traceparent),
    async (span) => {
      try {
        return await fn();
      } catch (error) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/**
 * A span that is not made active (the relay's, one per event of a batch), continuing the trace of
 * `traceparent`; null when tracing is off or the event was not traced. Its own `traceparent` is
 * what the jobs it dispatches continue.
 */
export function childSpan(
  name: string,
  traceparent: string | null | undefined,
  options: { kind?: SpanKind; attributes?: Attributes },
): { traceparent: string | null; end(error?: unknown): void } | null {
  if (!active || !validTraceparent(traceparent)) return null;
  const span = tracer.startSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes },
    parentContext(traceparent),
  );
  return {
    traceparent: formatTraceparent(span.spanContext()),
    end(error?: unknown) {
      if (error !== undefined) {
        span.recordException(error as Error);
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: error instanceof Error ? error.message : 'failed',
        });
      }
      span.end();
    },
  };
}

export { SpanKind };
