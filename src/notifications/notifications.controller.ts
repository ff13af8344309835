import { Controller, Get, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ApiMemberRoute, invalidField } from '../platform/http/api-docs';
import { UuidParam } from '../platform/http/decorators';
import { Endpoint } from '../platform/http/endpoint';
import type { Page } from '../platform/http/pagination';
import { CurrentTenant } from '../platform/tenancy/current-tenant.decorator';
import type { Tenant } from '../platform/tenancy/tenant-context';
import {
  NotificationPageResponse,
  NotificationResponse,
  ReadAllResponse,
} from './dto/notification.response';
import { NotificationsQuery } from './dto/notifications.query';
import { NotificationProblems as P } from './notifications.problems';
import { NotificationsService } from './notifications.service';

@ApiTags('notifications')
@ApiMemberRoute()
@Controller('notifications')
export class NotificationsController {
  constructor(private readonly notifications: NotificationsService) {}

  @Get()
  @Endpoint({
    operation: 'listNotifications',
    summary: 'My in-app notifications, latest activity first',
    description:
      'A new thread gives one thread.started; later messages from one sender in one thread coalesce into one unread message.received whose count grows; once it is read, the next message opens a new one. No message text is stored in notifications.',
    responses: {
      200: {
        type: NotificationPageResponse,
        description: 'A page of your notifications, the most recently updated first.',
      },
    },
    cursorExample:
      'WyIyMDI2LTExLTI2VDE0OjA5OjQwLjUxMjAwMFoiLCIwMWEyMTgyYS05YjUzLTdhMTktYjJjNy00ZThmMGQxYTZjMzUiXQ',
    problems: [
      400,
      {
        ...invalidField('unreadOnly', 'unreadOnly must be true or false'),
        key: 'invalid-unreadOnly',
      },
    ],
  })
  list(
    @CurrentTenant() tenant: Tenant,
    @Query() query: NotificationsQuery,
  ): Promise<Page<NotificationResponse>> {
    return this.notifications.list(tenant, query);
  }

  @Post('read-all')
  @Endpoint({
    operation: 'markAllNotificationsRead',
    summary: 'Mark all my notifications read',
    responses: {
      200: {
        type: ReadAllResponse,
        description: 'All your unread notifications are now read; `updated` says how many were.',
      },
    },
    body: false,
  })
  markAllRead(@CurrentTenant() tenant: Tenant): Promise<{ updated: number }> {
    return this.notifications.markAllRead(tenant);
  }

  @Post(':id/read')
  @Endpoint({
    operation: 'markNotificationRead',
    summary: 'Mark one notification read',
    description: 'Idempotent: keeps the first readAt.',
    responses: {
      200: {
        type: NotificationResponse,
        description: 'The notification, read (with the first readAt if it already was).',
      },
    },
    params: {
      id: { description: 'The notification.', example: '01a2182a-9b53-7a19-b2c7-4e8f0d1a6c35' },
    },
    body: false,
    problems: [P.notificationNotFound],
  })
  markRead(
    @CurrentTenant() tenant: Tenant,
    @UuidParam('id') id: string,
  ): Promise<NotificationResponse> {
    return this.notifications.markRead(tenant, id);
  }
}
