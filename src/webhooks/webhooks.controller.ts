import { Body, Controller, Delete, Get, Patch, Post, Query } from '@nestjs/common';
import { ApiExtension, ApiExtraModels, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { Roles } from '../platform/auth/decorators';
import { ApiMemberRoute, ApiProblems, invalidField } from '../platform/http/api-docs';
import { UuidParam } from '../platform/http/decorators';
import { Endpoint } from '../platform/http/endpoint';
import { PageQuery, type Page } from '../platform/http/pagination';
import { CurrentTenant } from '../platform/tenancy/current-tenant.decorator';
import type { Tenant } from '../platform/tenancy/tenant-context';
import { CreateEndpointDto, UpdateEndpointDto } from './dto/endpoint.dto';
import {
  AttemptListResponse,
  DeliveriesQuery,
  DeliveryPageResponse,
  DeliveryResponse,
  EndpointPageResponse,
  EndpointResponse,
  EndpointWithSecretResponse,
} from './dto/webhook.response';
import { WEBHOOK_PAYLOADS } from './dto/webhook-payload';
import { PUBLIC_URL_REQUIRED } from './ssrf';
import { WebhookProblems as P } from './webhooks.problems';
import { WebhooksService } from './webhooks.service';

const INVALID_URL = invalidField('url', PUBLIC_URL_REQUIRED);
const ENDPOINT_ID = {
  id: { description: 'The endpoint.', example: '01a218b4-1d64-760c-9340-8ee79091f7cb' },
};
const DELIVERY_ID = {
  id: { description: 'The delivery.', example: '01a218b4-f1bb-7c2e-9a51-3d0c5e8f7a21' },
};
const PAYLOAD_LIST = Object.entries(WEBHOOK_PAYLOADS)
  .map(([type, schema]) => `- \`${type}\`: ${schema.name}`)
  .join('\n');

@ApiTags('webhooks')
@ApiMemberRoute()
@ApiProblems(P.adminsOnly)
@Roles('org_admin')
@Controller('webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post('endpoints')
  @ApiExtraModels(...Object.values(WEBHOOK_PAYLOADS))
  @ApiExtension(
    'x-webhook-payloads',
    Object.fromEntries(
      Object.entries(WEBHOOK_PAYLOADS).map(([type, schema]) => [
        type,
        { $ref: getSchemaPath(schema) },
      ]),
    ),
  )
  @Endpoint({
    operation: 'createWebhookEndpoint',
    summary: 'Register an endpoint',
    description: `Deliveries are signed per the Standard Webhooks spec (webhook-id, webhook-timestamp, webhook-signature: v1,<base64 HMAC-SHA256>). The \`secret\` is shown only in this response (and on rotation). See docs/webhooks.md.\n\nEach delivery POSTs a JSON body \`{ type, timestamp, data }\` (the WebhookPayload schema, told apart by \`type\`); the schema of each event type's body is in \`x-webhook-payloads\`:\n\n${PAYLOAD_LIST}`,
    responses: {
      201: {
        type: EndpointWithSecretResponse,
        description: 'Registered and enabled. `secret` is shown only here: store it now.',
      },
    },
    body: true,
    problems: [INVALID_URL],
  })
  create(
    @CurrentTenant() tenant: Tenant,
    @Body() body: CreateEndpointDto,
  ): Promise<EndpointWithSecretResponse> {
    return this.webhooks.create(tenant, body);
  }

  @Get('endpoints')
  @Endpoint({
    operation: 'listWebhookEndpoints',
    summary: 'List endpoints',
    description: 'Newest first. Secrets are never listed.',
    responses: {
      200: {
        type: EndpointPageResponse,
        description: 'A page of your org’s endpoints, newest first, without their secrets.',
      },
    },
    cursorExample:
      'WyIyMDI2LTExLTI2VDE2OjMzOjA2LjkxNFoiLCIwMWEyMThiNC0xZDY0LTc2MGMtOTM0MC04ZWU3OTA5MWY3Y2IiXQ',
    problems: [400],
  })
  list(
    @CurrentTenant() tenant: Tenant,
    @Query() query: PageQuery,
  ): Promise<Page<EndpointResponse>> {
    return this.webhooks.list(tenant, query);
  }

  @Get('endpoints/:id')
  @Endpoint({
    operation: 'getWebhookEndpoint',
    summary: 'Get an endpoint',
    responses: {
      200: { type: EndpointResponse, description: 'The endpoint, without its secret.' },
    },
    params: ENDPOINT_ID,
    problems: [P.endpointNotFound],
  })
  get(@CurrentTenant() tenant: Tenant, @UuidParam('id') id: string): Promise<EndpointResponse> {
    return this.webhooks.get(tenant, id);
  }

  @Patch('endpoints/:id')
  @Endpoint({
    operation: 'updateWebhookEndpoint',
    summary: 'Update an endpoint',
    description: 'Change url, events, description, includeMessageBody, or enable/disable it.',
    responses: {
      200: {
        type: EndpointResponse,
        description: 'The endpoint as updated; fields left out are unchanged.',
      },
    },
    params: ENDPOINT_ID,
    body: true,
    problems: [INVALID_URL, P.endpointNotFound],
  })
  update(
    @CurrentTenant() tenant: Tenant,
    @UuidParam('id') id: string,
    @Body() body: UpdateEndpointDto,
  ): Promise<EndpointResponse> {
    return this.webhooks.update(tenant, id, body);
  }

  @Delete('endpoints/:id')
  @Endpoint({
    operation: 'deleteWebhookEndpoint',
    summary: 'Delete an endpoint',
    description: 'Its deliveries and their log go with it.',
    responses: { 204: { description: 'Deleted.' } },
    params: ENDPOINT_ID,
    body: false,
    problems: [P.endpointNotFound],
  })
  async remove(@CurrentTenant() tenant: Tenant, @UuidParam('id') id: string): Promise<void> {
    await this.webhooks.remove(tenant, id);
  }

  @Post('endpoints/:id/rotate-secret')
  @Endpoint({
    operation: 'rotateWebhookSecret',
    summary: 'Rotate the signing secret',
    description:
      'Returns the new secret (shown only here). The previous secret keeps signing alongside it (two signatures, space-separated) until `previousSecretExpiresAt` (WEBHOOK_SECRET_OVERLAP_HOURS, 24 h by default).',
    responses: {
      200: {
        type: EndpointWithSecretResponse,
        description:
          'The endpoint with its new `secret` (shown only here) and `previousSecretExpiresAt`, until when the old secret still signs.',
      },
    },
    params: ENDPOINT_ID,
    body: false,
    problems: [P.endpointNotFound],
  })
  rotate(
    @CurrentTenant() tenant: Tenant,
    @UuidParam('id') id: string,
  ): Promise<EndpointWithSecretResponse> {
    return this.webhooks.rotateSecret(tenant, id);
  }

  @Get('endpoints/:id/deliveries')
  @Endpoint({
    operation: 'listWebhookDeliveries',
    summary: 'The endpoint’s deliveries, newest first',
    description: 'Filter with `status`.',
    responses: {
      200: {
        type: DeliveryPageResponse,
        description: 'A page of the endpoint’s deliveries, newest first.',
      },
    },
    params: ENDPOINT_ID,
    cursorExample:
      'WyIyMDI2LTExLTI2VDE2OjM0OjAxLjI3NTAwMFoiLCIwMWEyMThiNC1mMWJiLTdjMmUtOWE1MS0zZDBjNWU4ZjdhMjEiXQ',
    problems: [
      invalidField(
        'status',
        'status must be one of the following values: pending, failed, succeeded, exhausted',
      ),
      P.endpointNotFound,
    ],
  })
  deliveries(
    @CurrentTenant() tenant: Tenant,
    @UuidParam('id') id: string,
    @Query() query: DeliveriesQuery,
  ): Promise<Page<DeliveryResponse>> {
    return this.webhooks.deliveries(tenant, id, query);
  }

  @Get('deliveries/:id/attempts')
  @Endpoint({
    operation: 'listDeliveryAttempts',
    summary: 'The attempt log of a delivery',
    description:
      'Each attempt with its status code, duration, error and the first 4 KB of the response.',
    responses: {
      200: {
        type: AttemptListResponse,
        description: 'Every attempt of the delivery, oldest first.',
      },
    },
    params: DELIVERY_ID,
    problems: [P.deliveryNotFound],
  })
  async attempts(@UuidParam('id') id: string): Promise<AttemptListResponse> {
    return { data: await this.webhooks.attempts(id) };
  }

  @Post('deliveries/:id/retry')
  @Endpoint({
    operation: 'retryWebhookDelivery',
    summary: 'Re-deliver by hand',
    description:
      'The delivery becomes due now and is attempted again, with the same webhook-id. One more attempt even when it was exhausted. Refused (409) while an attempt is under way.',
    responses: {
      202: {
        type: DeliveryResponse,
        description:
          'The delivery, due now: an exhausted one becomes failed, a succeeded one stays succeeded with nextAttemptAt set until the redelivery runs.',
      },
    },
    params: DELIVERY_ID,
    body: false,
    problems: [P.deliveryNotFound, P.endpointDisabled, P.deliveryInProgress],
  })
  retry(@UuidParam('id') id: string): Promise<DeliveryResponse> {
    return this.webhooks.retry(id);
  }
}
