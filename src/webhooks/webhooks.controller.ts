import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Roles } from '../platform/auth/decorators';
import { CurrentTenant } from '../platform/tenancy/current-tenant.decorator';
import {
  ApiCursorQuery,
  ApiJsonBody,
  ApiMemberRoute,
  ApiProblems,
  invalidField,
  invalidUuid,
  UNEXPECTED_BODY,
} from '../platform/http/api-docs';
import { ApiUuidParam, UuidParam } from '../platform/http/decorators';
import { PageQuery, type Page } from '../platform/http/pagination';
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
import { PUBLIC_URL_REQUIRED } from './ssrf';
import { WebhooksService } from './webhooks.service';

const ENDPOINT_NOT_FOUND = {
  status: 404,
  detail: 'Webhook endpoint was not found.',
  description: 'Unknown endpoint, or one of another org.',
};
const DELIVERY_NOT_FOUND = {
  status: 404,
  detail: 'Delivery was not found.',
  description: 'Unknown delivery, or one of another org.',
};
const INVALID_ID = invalidUuid('id');
const INVALID_URL = invalidField('url', PUBLIC_URL_REQUIRED);
const ADMINS_ONLY = {
  status: 403,
  detail: 'This action requires the role org_admin.',
  description: 'Not an org admin.',
};

@ApiTags('webhooks')
@ApiMemberRoute()
@ApiProblems(ADMINS_ONLY)
@Roles('org_admin')
@Controller('webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post('endpoints')
  @ApiOperation({
    summary: 'Register an endpoint',
    description:
      'Deliveries are signed per the Standard Webhooks spec (webhook-id, webhook-timestamp, webhook-signature: v1,<base64 HMAC-SHA256>). The `secret` is shown only in this response (and on rotation). See docs/webhooks.md.',
  })
  @ApiCreatedResponse({
    type: EndpointWithSecretResponse,
    description: 'Registered and enabled. `secret` is shown only here: store it now.',
  })
  @ApiProblems(INVALID_URL)
  @ApiJsonBody()
  create(
    @CurrentTenant() tenant: Tenant,
    @Body() body: CreateEndpointDto,
  ): Promise<EndpointWithSecretResponse> {
    return this.webhooks.create(tenant, body);
  }

  @Get('endpoints')
  @ApiOperation({
    summary: 'List endpoints',
    description: 'Newest first. Secrets are never listed.',
  })
  @ApiCursorQuery(
    'WyIyMDI2LTExLTI2VDE2OjMzOjA2LjkxNFoiLCIwMWEyMThiNC0xZDY0LTc2MGMtOTM0MC04ZWU3OTA5MWY3Y2IiXQ',
  )
  @ApiOkResponse({
    type: EndpointPageResponse,
    description: 'A page of your org’s endpoints, newest first, without their secrets.',
  })
  @ApiProblems(400)
  list(
    @CurrentTenant() tenant: Tenant,
    @Query() query: PageQuery,
  ): Promise<Page<EndpointResponse>> {
    return this.webhooks.list(tenant, query);
  }

  @Get('endpoints/:id')
  @ApiUuidParam('id', 'The endpoint.', '01a218b4-1d64-760c-9340-8ee79091f7cb')
  @ApiOperation({ summary: 'Get an endpoint' })
  @ApiOkResponse({ type: EndpointResponse, description: 'The endpoint, without its secret.' })
  @ApiProblems(INVALID_ID, ENDPOINT_NOT_FOUND)
  get(@CurrentTenant() tenant: Tenant, @UuidParam('id') id: string): Promise<EndpointResponse> {
    return this.webhooks.get(tenant, id);
  }

  @Patch('endpoints/:id')
  @ApiUuidParam('id', 'The endpoint.', '01a218b4-1d64-760c-9340-8ee79091f7cb')
  @ApiOperation({
    summary: 'Update an endpoint',
    description: 'Change url, events, description, includeMessageBody, or enable/disable it.',
  })
  @ApiOkResponse({
    type: EndpointResponse,
    description: 'The endpoint as updated; fields left out are unchanged.',
  })
  @ApiProblems(INVALID_ID, INVALID_URL, ENDPOINT_NOT_FOUND)
  @ApiJsonBody()
  update(
    @CurrentTenant() tenant: Tenant,
    @UuidParam('id') id: string,
    @Body() body: UpdateEndpointDto,
  ): Promise<EndpointResponse> {
    return this.webhooks.update(tenant, id, body);
  }

  @Delete('endpoints/:id')
  @HttpCode(204)
  @ApiUuidParam('id', 'The endpoint.', '01a218b4-1d64-760c-9340-8ee79091f7cb')
  @ApiOperation({
    summary: 'Delete an endpoint',
    description: 'Its deliveries and their log go with it.',
  })
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiProblems(INVALID_ID, UNEXPECTED_BODY, ENDPOINT_NOT_FOUND)
  async remove(@CurrentTenant() tenant: Tenant, @UuidParam('id') id: string): Promise<void> {
    await this.webhooks.remove(tenant, id);
  }

  @Post('endpoints/:id/rotate-secret')
  @HttpCode(200)
  @ApiUuidParam('id', 'The endpoint.', '01a218b4-1d64-760c-9340-8ee79091f7cb')
  @ApiOperation({
    summary: 'Rotate the signing secret',
    description:
      'Returns the new secret (shown only here). The previous secret keeps signing alongside it (two signatures, space-separated) until `previousSecretExpiresAt` (WEBHOOK_SECRET_OVERLAP_HOURS, 24 h by default).',
  })
  @ApiOkResponse({
    type: EndpointWithSecretResponse,
    description:
      'The endpoint with its new `secret` (shown only here) and `previousSecretExpiresAt`, until when the old secret still signs.',
  })
  @ApiProblems(INVALID_ID, UNEXPECTED_BODY, ENDPOINT_NOT_FOUND)
  rotate(
    @CurrentTenant() tenant: Tenant,
    @UuidParam('id') id: string,
  ): Promise<EndpointWithSecretResponse> {
    return this.webhooks.rotateSecret(tenant, id);
  }

  @Get('endpoints/:id/deliveries')
  @ApiUuidParam('id', 'The endpoint.', '01a218b4-1d64-760c-9340-8ee79091f7cb')
  @ApiOperation({
    summary: 'The endpoint’s deliveries, newest first',
    description: 'Filter with `status`.',
  })
  @ApiCursorQuery(
    'WyIyMDI2LTExLTI2VDE2OjM0OjAxLjI3NTAwMFoiLCIwMWEyMThiNC1mMWJiLTdjMmUtOWE1MS0zZDBjNWU4ZjdhMjEiXQ',
  )
  @ApiOkResponse({
    type: DeliveryPageResponse,
    description: 'A page of the endpoint’s deliveries, newest first.',
  })
  @ApiProblems(
    INVALID_ID,
    invalidField(
      'status',
      'status must be one of the following values: pending, failed, succeeded, exhausted',
    ),
    ENDPOINT_NOT_FOUND,
  )
  deliveries(
    @CurrentTenant() tenant: Tenant,
    @UuidParam('id') id: string,
    @Query() query: DeliveriesQuery,
  ): Promise<Page<DeliveryResponse>> {
    return this.webhooks.deliveries(tenant, id, query);
  }

  @Get('deliveries/:id/attempts')
  @ApiUuidParam('id', 'The delivery.', '01a218b4-f1bb-7c2e-9a51-3d0c5e8f7a21')
  @ApiOperation({
    summary: 'The attempt log of a delivery',
    description:
      'Each attempt with its status code, duration, error and the first 4 KB of the response.',
  })
  @ApiOkResponse({
    type: AttemptListResponse,
    description: 'Every attempt of the delivery, oldest first.',
  })
  @ApiProblems(INVALID_ID, DELIVERY_NOT_FOUND)
  async attempts(@UuidParam('id') id: string): Promise<AttemptListResponse> {
    return { data: await this.webhooks.attempts(id) };
  }

  @Post('deliveries/:id/retry')
  @HttpCode(202)
  @ApiUuidParam('id', 'The delivery.', '01a218b4-f1bb-7c2e-9a51-3d0c5e8f7a21')
  @ApiOperation({
    summary: 'Re-deliver by hand',
    description:
      'The delivery becomes due now and is attempted again, with the same webhook-id. One more attempt even when it was exhausted. Refused (409) while an attempt is under way.',
  })
  @ApiAcceptedResponse({
    type: DeliveryResponse,
    description:
      'The delivery, due now: an exhausted one becomes failed, a succeeded one stays succeeded with nextAttemptAt set until the redelivery runs.',
  })
  @ApiProblems(
    INVALID_ID,
    UNEXPECTED_BODY,
    DELIVERY_NOT_FOUND,
    {
      status: 409,
      slug: 'endpoint-disabled',
      title: 'Endpoint disabled',
      detail:
        'The endpoint is disabled; enable it (PATCH enabled=true) before retrying its deliveries.',
      description: 'The endpoint is disabled.',
    },
    {
      status: 409,
      slug: 'delivery-in-progress',
      title: 'Delivery in progress',
      detail:
        'An attempt of this delivery is under way; retry it once that attempt is logged (GET /api/v1/webhooks/deliveries/{id}/attempts).',
      description: 'An attempt is dispatched or under way: one attempt at a time.',
    },
  )
  retry(@UuidParam('id') id: string): Promise<DeliveryResponse> {
    return this.webhooks.retry(id);
  }
}
