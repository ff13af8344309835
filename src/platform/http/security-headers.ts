import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';

/** Helmet's headers for a configuration, computed once (they do not depend on the request). */
export function helmetHeaders(options: Readonly<HelmetOptions>): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string | number) => {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()];
    },
  };
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, () => undefined);
  return headers;
}

/** JSON API responses: nothing to render, nothing to frame, nothing to cache. */
const API_HEADERS = {
  ...helmetHeaders({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    },
    frameguard: { action: 'deny' },
  }),
  'cache-control': 'no-store',
};

/** Swagger UI, the queue dashboard and the web app: HTML with their own scripts and styles. */
const PAGE_HEADERS = helmetHeaders({
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      upgradeInsecureRequests: null,
    },
  },
});

/** Security headers on every response, from tables computed at start (helmet's own logic). */
export function securityHeaders(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    const url = request.url;
    void reply.headers(
      url.startsWith('/docs') || url.startsWith('/admin/queues') || url.startsWith('/app')
        ? PAGE_HEADERS
        : API_HEADERS,
    );
    done();
  });
}
