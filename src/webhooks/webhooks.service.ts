import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/app-config';
import { Problems } from '../platform/http/problem';
import { WebhookProblems } from './webhooks.problems';
import { cursorList, type Page, type PageQuery } from '../platform/http/pagination';
import type { Tenant } from '../platform/tenancy/tenant-context';
import type { CreateEndpointDto, UpdateEndpointDto } from './dto/endpoint.dto';
import type {
  AttemptResponse,
  DeliveriesQuery,
  DeliveryResponse,
  EndpointResponse,
  EndpointWithSecretResponse,
} from './dto/webhook.response';
import { encryptSecret, generateSecret } from './secrets';
import { checkWebhookUrl } from './ssrf';
import { WebhooksRepository, type DeliveryRow, type EndpointRow } from './webhooks.repository';

/** Webhook endpoints and their delivery log, for org admins. */
@Injectable()
export class WebhooksService {
  constructor(
    private readonly repo: WebhooksRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async create(tenant: Tenant, input: CreateEndpointDto): Promise<EndpointWithSecretResponse> {
    const url = await this.checkUrl(input.url);
    const secret = generateSecret();
    const endpoint = await this.repo.createEndpoint({
      orgId: tenant.orgId,
      url,
      description: input.description ?? null,
      events: input.events,
      includeMessageBody: input.includeMessageBody ?? false,
      secretCiphertext: encryptSecret(secret, this.config.webhooks.encryptionKey),
      createdBy: tenant.userId,
    });
    await this.repo.refreshRoutes();
    return { ...toEndpointResponse(endpoint), secret };
  }

  list(tenant: Tenant, query: PageQuery): Promise<Page<EndpointResponse>> {
    return cursorList(
      query,
      ['timestamp', 'uuid'],
      (limit, after: [string, string] | null) =>
        this.repo.listEndpoints(tenant.orgId, limit, after),
      toEndpointResponse,
      (e): [string, string] => [e.createdKey, e.id],
    );
  }

  async get(tenant: Tenant, id: string): Promise<EndpointResponse> {
    return toEndpointResponse(await this.find(tenant, id));
  }

  async update(tenant: Tenant, id: string, changes: UpdateEndpointDto): Promise<EndpointResponse> {
    await this.find(tenant, id);
    const url = changes.url !== undefined ? await this.checkUrl(changes.url) : undefined;
    const endpoint = await this.repo.updateEndpoint(tenant.orgId, id, { ...changes, url });
    if (!endpoint) throw WebhookProblems.endpointNotFound();
    await this.repo.refreshRoutes();
    return toEndpointResponse(endpoint);
  }

  async remove(tenant: Tenant, id: string): Promise<void> {
    if (!(await this.repo.removeEndpoint(tenant.orgId, id))) {
      throw WebhookProblems.endpointNotFound();
    }
    await this.repo.refreshRoutes();
  }

  /** A new secret; the previous one keeps signing alongside it for the overlap period. */
  async rotateSecret(tenant: Tenant, id: string): Promise<EndpointWithSecretResponse> {
    const secret = generateSecret();
    const overlapMs = this.config.webhooks.secretOverlapHours * 3600_000;
    const endpoint = await this.repo.rotateSecret(
      tenant.orgId,
      id,
      encryptSecret(secret, this.config.webhooks.encryptionKey),
      overlapMs > 0 ? new Date(Date.now() + overlapMs) : null,
    );
    if (!endpoint) throw WebhookProblems.endpointNotFound();
    return { ...toEndpointResponse(endpoint), secret };
  }

  async deliveries(
    tenant: Tenant,
    endpointId: string,
    query: DeliveriesQuery,
  ): Promise<Page<DeliveryResponse>> {
    await this.find(tenant, endpointId);
    return cursorList(
      query,
      ['timestamp', 'uuid'],
      (limit, after: [string, string] | null) =>
        this.repo.deliveries(endpointId, query.status, limit, after),
      toDeliveryResponse,
      (r): [string, string] => [r.createdKey, r.id],
    );
  }

  async attempts(deliveryId: string): Promise<AttemptResponse[]> {
    const delivery = await this.repo.delivery(deliveryId);
    if (!delivery) throw WebhookProblems.deliveryNotFound();
    const rows = await this.repo.attempts(deliveryId);
    return rows.map((a) => ({
      attempt: a.attempt,
      startedAt: new Date(a.startedAt).toISOString(),
      durationMs: a.durationMs,
      statusCode: a.statusCode,
      error: a.error,
      responseBody: a.responseBody,
    }));
  }

  /** Re-delivers by hand (same webhook-id): the delivery is due now and the relay dispatches it. */
  async retry(deliveryId: string): Promise<DeliveryResponse> {
    const delivery = await this.repo.delivery(deliveryId);
    if (!delivery) throw WebhookProblems.deliveryNotFound();
    if (!delivery.endpointEnabled) {
      throw WebhookProblems.endpointDisabled();
    }
    if (!(await this.repo.scheduleNow(deliveryId))) {
      throw WebhookProblems.deliveryInProgress();
    }
    return toDeliveryResponse((await this.repo.delivery(deliveryId))!);
  }

  private async find(tenant: Tenant, id: string): Promise<EndpointRow> {
    const endpoint = await this.repo.findEndpoint(tenant.orgId, id);
    if (!endpoint) throw WebhookProblems.endpointNotFound();
    return endpoint;
  }

  private async checkUrl(raw: string): Promise<string> {
    const check = await checkWebhookUrl(raw, {
      allowPrivate: this.config.webhooks.allowPrivateUrls,
    });
    if (!check.ok) throw Problems.validation([{ field: 'url', message: check.reason }]);
    return check.url.toString();
  }
}

export function toEndpointResponse(e: EndpointRow): EndpointResponse {
  return {
    id: e.id,
    url: e.url,
    events: e.events,
    description: e.description ?? null,
    includeMessageBody: e.includeMessageBody,
    enabled: e.enabled,
    disabledReason: e.disabledReason ?? null,
    failingSince: e.failingSince ? new Date(e.failingSince).toISOString() : null,
    previousSecretExpiresAt:
      e.previousSecretCiphertext &&
      e.previousSecretExpiresAt &&
      new Date(e.previousSecretExpiresAt) > new Date()
        ? new Date(e.previousSecretExpiresAt).toISOString()
        : null,
    createdAt: new Date(e.createdAt).toISOString(),
    updatedAt: new Date(e.updatedAt).toISOString(),
  };
}

export function toDeliveryResponse(d: DeliveryRow): DeliveryResponse {
  return {
    id: d.id,
    eventId: d.eventId,
    eventType: d.eventType,
    status: d.status,
    attempts: d.attempts,
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError,
    nextAttemptAt: d.nextAttemptAt ? new Date(d.nextAttemptAt).toISOString() : null,
    createdAt: new Date(d.createdAt).toISOString(),
  };
}
