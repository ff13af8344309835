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
  return addConditionalGets(
    addNamedSchemas(
      SwaggerModule.createDocument(app, config, {
        operationIdFactory: (controllerKey, methodKey) =>
          `${controllerKey.replace(/Controller$/, '')}_${methodKey}`,
      }),
    ),
  );
}

const ETAG_HEADER = {
  description:
    'A strong tag of this exact body (its SHA-1). Send it back as `If-None-Match` to get 304 while the answer is unchanged.',
  schema: { type: 'string', example: '"2jmj7l5rSw0yVb_vlWAYkK_YBwk"' },
};

/**
 * Conditional GETs (src/platform/http/etag.ts): every API GET that answers 200 documents its
 * `ETag`, the optional `If-None-Match` and the 304 it then answers.
 */
function addConditionalGets(document: OpenAPIObject): OpenAPIObject {
  for (const [path, item] of Object.entries(document.paths)) {
    const get = item.get;
    const ok = get?.responses['200'];
    // JSON answers only: the event stream's body is a stream, which is never tagged.
    if (!get || !ok || '$ref' in ok || !path.startsWith('/api/')) continue;
    if (!ok.content?.['application/json']) continue;
    ok.headers = { ...ok.headers, ETag: ETAG_HEADER };
    get.parameters = [
      ...(get.parameters ?? []),
      {
        name: 'If-None-Match',
        in: 'header',
        required: false,
        description:
          'The `ETag` of an answer you kept: 304 with no body while the answer would be the same.',
        schema: { type: 'string' },
      },
    ];
    get.responses['304'] = {
      description: 'Not modified: the answer is still the one whose ETag you sent (no body).',
      headers: { ETag: ETAG_HEADER },
    };
  }
  return document;
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
