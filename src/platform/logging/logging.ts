import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import type { AppConfig } from '../../config/app-config';

/** What the request line says about the caller; set once the token is verified. */
export interface RequestLogContext {
  orgId?: string | null;
  userId?: string;
  route?: string;
}

export const LOG_CONTEXT = Symbol.for('rm.logContext');

type RawRequest = IncomingMessage & { id?: string; [LOG_CONTEXT]?: RequestLogContext };

export function annotateRequestLog(raw: unknown, ctx: RequestLogContext): void {
  const r = raw as RawRequest;
  r[LOG_CONTEXT] = { ...r[LOG_CONTEXT], ...ctx };
}

/**
 * One structured line per request: request id, org, user, route, status, duration. Never bodies,
 * tokens or query strings (which may hold search terms).
 */
export function loggerParams(config: AppConfig): Params {
  return {
    forRoutes: [{ path: '{*splat}', method: RequestMethod.ALL }],
    pinoHttp: {
      level: config.logLevel,
      genReqId: (req: IncomingMessage) => (req as RawRequest).id ?? '',
      customAttributeKeys: { responseTime: 'durationMs' },
      quietReqLogger: true,
      customProps: (req: IncomingMessage) => {
        const ctx = (req as RawRequest)[LOG_CONTEXT];
        return ctx ? { orgId: ctx.orgId ?? undefined, userId: ctx.userId, route: ctx.route } : {};
      },
      serializers: {
        req: (req: { method: string; url: string }) => ({
          method: req.method,
          path: req.url.split('?')[0],
        }),
        res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
      },
      customSuccessMessage: () => 'request completed',
      customErrorMessage: () => 'request failed',
      customLogLevel: (_req, res, err) =>
        err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'info' : 'info',
      redact: ['req.headers.authorization', 'req.headers.cookie'],
    },
  };
}
