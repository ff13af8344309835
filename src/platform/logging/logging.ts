import { RequestMethod } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import { PinoLogger, type Params } from 'nestjs-pino';
import { isMainThread } from 'node:worker_threads';
import pino from 'pino';
import type { AppConfig } from '../../config/app-config';
import type { Principal } from '../auth/principal';
import { traceLogFields } from '../tracing/tracing';

/**
 * Nest's own logs go through nestjs-pino. Its per-request middleware (pino-http, a child logger
 * per request) is not mounted: the one line per request is written by a Fastify onResponse hook
 * (requestLogging below), which costs a fraction of it.
 */
export function loggerParams(config: AppConfig): Params {
  // Buffered, asynchronous writes (issue 17): lines gather until 4 KiB (some 15 request lines) or
  // a second has passed, then go out in one write, so under load a request costs no write of its
  // own. pino flushes what is left when the process exits (an 'exit' handler: a normal stop, a
  // signal Nest handles, an uncaught error); a SIGKILL loses at most the last second's lines. A
  // worker thread gets no exit handler from pino, so it writes as before (no minimum).
  const stream = pino.destination({
    dest: 1,
    sync: false,
    minLength: isMainThread ? 4096 : 0,
    periodicFlush: isMainThread ? 1000 : 0,
  });
  return {
    forRoutes: [{ path: '__rm_no_request_middleware__', method: RequestMethod.ALL }],
    pinoHttp: [
      {
        level: config.logLevel,
        redact: ['req.headers.authorization'],
        // trace_id and span_id of the request or job being traced (docs/operations.md, "Traces").
        mixin: traceLogFields,
      },
      stream,
    ],
  };
}

/**
 * One structured line per request: request id, org, user, route (the template, never ids or
 * query strings), status, duration. Never bodies or tokens.
 */
export function requestLogging(fastify: FastifyInstance): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    const logger = PinoLogger.root;
    const status = reply.statusCode;
    const level = status >= 500 ? 'error' : 'info';
    if (logger?.isLevelEnabled(level)) {
      const user = (request as unknown as { user?: Principal }).user;
      logger[level](
        {
          reqId: request.id,
          method: request.method,
          route: request.routeOptions?.url ?? 'unmatched',
          status,
          durationMs: Math.round(reply.elapsedTime * 10) / 10,
          orgId: user?.orgId ?? undefined,
          userId: user?.userId,
        },
        'request completed',
      );
    }
    done();
  });
}
