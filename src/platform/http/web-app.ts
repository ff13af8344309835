import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/**
 * Serves the built web app (web/, `npm run web:build`) at /app: its files, and index.html for
 * /app itself. When it is not built, /app says how to build it rather than answering 404.
 */
export async function mountWebApp(
  app: NestFastifyApplication,
  options: { enabled: boolean; dir: string },
): Promise<void> {
  if (!options.enabled) return;
  const fastify = app.getHttpAdapter().getInstance();
  const root = resolve(options.dir);
  fastify.get('/app', (_request, reply) => reply.redirect('/app/', 302));
  if (!existsSync(resolve(root, 'index.html'))) {
    fastify.get('/app/*', (_request, reply) =>
      reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send(`The web app is not built (${root}): run npm run web:build, or npm start.\n`),
    );
    return;
  }
  await fastify.register(fastifyStatic, {
    root,
    prefix: '/app/',
    index: 'index.html',
    decorateReply: false,
    // Built assets have content hashes in their names; index.html must always be fresh.
    setHeaders: (res, path) => {
      void res.header(
        'cache-control',
        path.endsWith('index.html') ? 'no-cache' : 'public, max-age=31536000, immutable',
      );
    },
  });
}
