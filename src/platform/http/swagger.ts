import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { addNamedSchemas } from './named-schemas';

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Resident Messaging API')
    .setDescription(
      [
        'Private one-to-one messaging between the people of a building organization.',
        '',
        'Authenticate with `Authorization: Bearer <JWT>` (click **Authorize**). In development, `npm start` prints tokens for a demo org; `npm run token` mints more.',
        '',
        'Errors are RFC 9457 problem details (`application/problem+json`). Anything you may not see answers 404 exactly as an unknown id does. Lists are cursor-paginated: `?limit=&cursor=` → `{ data, nextCursor }`.',
      ].join('\n'),
    )
    .setVersion('1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, 'bearer')
    .build();
  return addNamedSchemas(
    SwaggerModule.createDocument(app, config, {
      operationIdFactory: (controllerKey, methodKey) =>
        `${controllerKey.replace(/Controller$/, '')}_${methodKey}`,
    }),
  );
}

export function mountSwagger(app: INestApplication): OpenAPIObject {
  const document = buildOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs-json',
    customSiteTitle: 'Resident Messaging API',
    swaggerOptions: { persistAuthorization: true, displayRequestDuration: true },
  });
  return document;
}
