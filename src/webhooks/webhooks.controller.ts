import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentTenant, Roles } from '../platform/auth/decorators';
import { UsesOrm } from '../platform/tenancy/uses-orm.decorator';
import { ApiMemberRoute, ApiProblems } from '../platform/http/api-docs';
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
const ADMINS_ONLY = {
  status: 403,
  detail: 'This action requires the role org_admin.',
  description: 'Not an org admin.',
};

@ApiTags('webhooks')
@ApiMemberRoute()
@ApiProblems(ADMINS_ONLY)
@Roles('org_admin')
@UsesOrm()
@Controller('webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post('endpoints')
  @ApiOperation({
    summary: 'Register an endpoint',
    description:
      'Deliveries are signed per the Standard Webhooks spec (webhook-id, webhook-timestamp, webhook-signature: v1,<base64 HMAC-SHA256>). The `secret` is shown only in this response (and on rotation). See docs/webhooks.md.',
  })
  @ApiCreatedResponse({ type: EndpointWithSecretResponse })
  @ApiProblems(400)
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
  @ApiOkResponse({ type: EndpointPageResponse })
  @ApiProblems(400)
  list(
    @CurrentTenant() tenant: Tenant,
    @Query() query: PageQuery,
  ): Promise<Page<EndpointResponse>> {
    return this.webhooks.list(tenant, query);
  }

  @Get('endpoints/:id')
  @ApiUuidParam('id', 'The endpoint.')
  @ApiOperation({ summary: 'Get an endpoint' })
  @ApiOkResponse({ type: EndpointResponse })
  @ApiProblems(400, ENDPOINT_NOT_FOUND)
  get(@CurrentTenant() tenant: Tenant, @UuidParam('id') id: string): Promise<EndpointResponse> {
    return this.webhooks.get(tenant, id);
  }

  @Patch('endpoints/:id')
  @ApiUuidParam('id', 'The endpoint.')
  @ApiOperation({
    summary: 'Update an endpoint',
    description: 'Change url, events, description, includeMessageBody, or enable/disable it.',
  })
  @ApiOkResponse({ type: EndpointResponse })
  @ApiProblems(400, ENDPOINT_NOT_FOUND)
  update(
    @CurrentTenant() tenant: Tenant,
    @UuidParam('id') id: string,
    @Body() body: UpdateEndpointDto,
  ): Promise<EndpointResponse> {
    return this.webhooks.update(tenant, id, body);
  }

  @Delete('endpoints/:id')
  @HttpCode(204)
  @ApiUuidParam('id', 'The endpoint.')
  @ApiOperation({
    summary: 'Delete an endpoint',
    description: 'Its deliveries and their log go with it.',
  })
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiProblems(400, ENDPOINT_NOT_FOUND)
  async remove(@CurrentTenant() tenant: Tenant, @UuidParam('id') id: string): Promise<void> {
    await this.webhooks.remove(tenant, id);
  }

  @Post('endpoints/:id/rotate-secret')
  @HttpCode(200)
  @ApiUuidParam('id', 'The endpoint.')
  @ApiOperation({
    summary: 'Rotate the signing secret',
    description:
      'Returns the new secret (shown only here). The previous secret keeps signing alongside it (two signatures, space-separated) until `previousSecretExpiresAt` (WEBHOOK_SECRET_OVERLAP_HOURS, 24 h by default).',
  })
  @ApiOkResponse({ type: EndpointWithSecretResponse })
  @ApiProblems(400, ENDPOINT_NOT_FOUND)
  rotate(
    @CurrentTenant() tenant: Tenant,
    @UuidParam('id') id: string,
  ): Promise<EndpointWithSecretResponse> {
    return this.webhooks.rotateSecret(tenant, id);
  }

  @Get('endpoints/:id/deliveries')
  @ApiUuidParam('id', 'The endpoint.')
  @ApiOperation({
    summary: 'The endpoint’s deliveries, newest first',
    description: 'Filter with `status`.',
  })
  @ApiOkResponse({ type: DeliveryPageResponse })
  @ApiProblems(400, ENDPOINT_NOT_FOUND)
  deliveries(
    @CurrentTenant() tenant: Tenant,
    @UuidParam('id') id: string,
    @Query() query: DeliveriesQuery,
  ): Promise<Page<DeliveryResponse>> {
    return this.webhooks.deliveries(tenant, id, query);
  }

  @Get('deliveries/:id/attempts')
  @ApiUuidParam('id', 'The delivery.')
  @ApiOperation({
    summary: 'The attempt log of a delivery',
    description:
      'Each attempt with its status code, duration, error and the first 4 KB of the response.',
  })
  @ApiOkResponse({ type: AttemptListResponse })
  @ApiProblems(400, DELIVERY_NOT_FOUND)
  async attempts(@UuidParam('id') id: string): Promise<AttemptListResponse> {
    return { data: await this.webhooks.attempts(id) };
  }

  @Post('deliveries/:id/retry')
  @HttpCode(202)
  @ApiUuidParam('id', 'The delivery.')
  @ApiOperation({
    summary: 'Re-deliver by hand',
    description:
      'The delivery becomes due now and is attempted again, with the same webhook-id. One more attempt even when it was exhausted.',
  })
  @ApiAcceptedResponse({ type: DeliveryResponse })
  @ApiProblems(400, DELIVERY_NOT_FOUND, {
    status: 409,
    slug: 'endpoint-disabled',
    title: 'Endpoint disabled',
    detail:
      'The endpoint is disabled; enable it (PATCH enabled=true) before retrying its deliveries.',
    description: 'The endpoint is disabled.',
  })
  retry(@UuidParam('id') id: string): Promise<DeliveryResponse> {
    return this.webhooks.retry(id);
  }
}
