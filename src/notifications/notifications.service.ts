import { Injectable } from '@nestjs/common';
import { NotificationProblems } from './notifications.problems';
import { cursorList, type Page } from '../platform/http/pagination';
import type { Tenant } from '../platform/tenancy/tenant-context';
import type { NotificationResponse } from './dto/notification.response';
import type { NotificationsQuery } from './dto/notifications.query';
import { NotificationsRepository, type NotificationRow } from './notifications.repository';

/**
 * The in-app inbox. Notifications are produced by the create-notifications job from outbox
 * events, never in a request; reading a thread marks its notifications read (in SQL, with the
 * read pointer).
 */
@Injectable()
export class NotificationsService {
  constructor(private readonly repo: NotificationsRepository) {}

  async list(tenant: Tenant, query: NotificationsQuery): Promise<Page<NotificationResponse>> {
    return cursorList(
      query,
      ['timestamp', 'uuid'],
      (limit, after: [string, string] | null) =>
        this.repo.list(tenant.orgId, tenant.userId, query.unreadOnly ?? false, limit, after),
      toNotificationResponse,
      (r): [string, string] => [r.updatedKey, r.id],
    );
  }

  async markRead(tenant: Tenant, id: string): Promise<NotificationResponse> {
    const row = await this.repo.markRead(tenant.orgId, tenant.userId, id);
    if (!row) throw NotificationProblems.notificationNotFound();
    return toNotificationResponse(row);
  }

  async markAllRead(tenant: Tenant): Promise<{ updated: number }> {
    return { updated: await this.repo.markAllRead(tenant.orgId, tenant.userId) };
  }

  /**
   * Notifications by id, each as its owner's GET /notifications shows it now, with the owner
   * (for the event streams; one hidden by a block is absent).
   */
  async asSeenByOwners(
    orgId: string,
    ids: string[],
  ): Promise<Map<string, { userId: string; notification: NotificationResponse }>> {
    const rows = await this.repo.byIds(orgId, [...new Set(ids)]);
    return new Map(
      rows.map((r) => [r.id, { userId: r.userId, notification: toNotificationResponse(r) }]),
    );
  }

  /**
   * A create-notifications job's work: its events in one statement, which enters the org's tenant
   * itself (rm_process_notification_batch). `traces[i]` is the trace context event i continues.
   */
  processBatch(orgId: string, eventIds: string[], traces: (string | null)[]): Promise<string[]> {
    return this.repo.processBatch(orgId, eventIds, traces);
  }
}

export function toNotificationResponse(row: NotificationRow): NotificationResponse {
  return {
    id: row.id,
    type: row.type,
    threadId: row.threadId,
    actor: row.actorId
      ? { userId: row.actorId, displayName: row.actorName!, role: row.actorRole! }
      : null,
    ...(row.endpointId ? { endpointId: row.endpointId } : {}),
    count: row.count,
    createdAt: new Date(row.createdAt).toISOString(),
    updatedAt: new Date(row.updatedAt).toISOString(),
    readAt: row.readAt ? new Date(row.readAt).toISOString() : null,
  };
}
