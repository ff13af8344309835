import { randomUUID } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Queue } from 'bullmq';
import { Logger } from 'nestjs-pino';
import type { AppConfig } from './config/app-config';
import { AppModule } from './app.module';
import { textLimits } from './platform/http/decorators';
import { ProblemDetailsFilter } from './platform/http/problem-details.filter';
import {
  clientErrorHandler,
  frameworkErrors,
  installJsonParser,
} from './platform/http/framework-errors';
import { mountSwagger } from './platform/http/swagger';
import { mountWebApp } from './platform/http/web-app';
import { conditionalGets } from './platform/http/etag';
import { securityHeaders } from './platform/http/security-headers';
import { requestLogging } from './platform/logging/logging';
import { nameServerSpan } from './platform/tracing/tracing';
import { createValidationPipe } from './platform/http/validation';
import { mountBullBoard } from './operations/bull-board';
import { MetricsEndpoint, mountMetrics } from './operations/metrics-endpoint';
import { OperatorAuth } from './operations/operator-auth';
import { installHttpMetrics } from './platform/metrics/http-metrics';
import { Metrics } from './platform/metrics/metrics';
import { QueueRegistry } from './platform/queues/queue-registry';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Builds the HTTP application exactly as `npm start` and the tests run it: Fastify, problem
 * details, validation, security headers, CORS, Swagger, the operators' dashboard.
 */
export interface HttpAppOptions {
  /** Run the worker in this thread's event loop (tests); default: config.workerEnabled. */
  worker?: boolean;
  /** Close on SIGTERM/SIGINT (Nest's shutdown hooks); off when the caller handles signals. */
  shutdownHooks?: boolean;
}

export async function createHttpApp(
  config: AppConfig,
  options: HttpAppOptions = {},
): Promise<NestFastifyApplication> {
  textLimits.messageMaxLength = config.messageMaxLength;
  const adapter = new FastifyAdapter({
    bodyLimit: config.bodyLimitBytes,
    frameworkErrors,
    clientErrorHandler,
    logger: false,
    trustProxy: config.trustProxy,
    requestIdHeader: false,
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config, { http: true, worker: options.worker ?? config.workerEnabled }),
    adapter,
    { bufferLogs: true, abortOnError: false, bodyParser: false },
  );
  app.useLogger(app.get(Logger));
  app.flushLogs();

  const fastify = app.getHttpAdapter().getInstance();
  // JSON only: any other body type is refused with 415 rather than reaching validation as a string.
  fastify.removeContentTypeParser(['text/plain']);
  installJsonParser(fastify, config.bodyLimitBytes);
  // First, so that every request counts (also those that hooks below answer).
  const metrics = app.get(Metrics);
  if (metrics.enabled) installHttpMetrics(fastify, metrics);
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    nameServerSpan(request.method, request.routeOptions?.url);
    done();
  });

  app.setGlobalPrefix('api/v1', { exclude: ['health/live', 'health/ready'] });
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ProblemDetailsFilter());
  app.enableCors({
    origin: config.corsOrigins,
    exposedHeaders: ['x-request-id', 'retry-after', 'location', 'www-authenticate', 'etag'],
    allowedHeaders: [
      'authorization',
      'content-type',
      'idempotency-key',
      'if-none-match',
      'last-event-id',
      'x-request-id',
      // A traced frontend continues its trace in ours (docs/operations.md, "Traces").
      'traceparent',
      'tracestate',
    ],
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    maxAge: 600,
    // An OPTIONS request without the preflight headers is answered like a preflight (204, no
    // allow-origin unless the origin is allowed) rather than with a plain-text 400.
    strictPreflight: false,
  });
  securityHeaders(fastify);
  conditionalGets(fastify);
  requestLogging(fastify);
  if (options.shutdownHooks ?? true) app.enableShutdownHooks();
  mountSwagger(app);
  await mountWebApp(app, config.webApp);
  const queues: Queue[] = app.get(QueueRegistry).all();
  // One count of failed operator sign-ins for both operator surfaces.
  const operators = new OperatorAuth(config.operator);
  await mountBullBoard(app, queues, config, operators);
  if (metrics.enabled) mountMetrics(app, new MetricsEndpoint(metrics, config, operators));
  return app;
}
