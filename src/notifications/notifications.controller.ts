import { Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentTenant } from '../platform/tenancy/current-tenant.decorator';
import {
  ApiCursorQuery,
  ApiMemberRoute,
  ApiProblems,
  invalidUuid,
  UNEXPECTED_BODY,
} from '../platform/http/api-docs';
import { ApiUuidParam, UuidParam } from '../platform/http/decorators';
import type { Page } from '../platform/http/pagination';
import type { Tenant } from '../platform/tenancy/tenant-context';
import {
  NotificationPageResponse,
  NotificationResponse,
  ReadAllResponse,
} from './dto/notification.response';
import { NotificationsQuery } from './dto/notifications.query';
import { NotificationsService } from './notifications.service';

@ApiTags('notifications')
@ApiMemberRoute()
@Controller('notifications')
export class NotificationsController {
  constructor(private readonly notifications: NotificationsService) {}

  @Get()
  @ApiOperation({
    summary: 'My in-app notifications, latest activity first',
    description:
      'A new thread gives one thread.started; later messages from one sender in one thread coalesce into one unread message.received whose count grows; once it is read, the next message opens a new one. No message text is stored in notifications.',
  })
  @ApiCursorQuery(
    'WyIyMDI2LTExLTI2VDE0OjA5OjQwLjUxMjAwMFoiLCIwMWEyMTgyYS05YjUzLTdhMTktYjJjNy00ZThmMGQxYTZjMzUiXQ',
  )
  @ApiOkResponse({
    type: NotificationPageResponse,
    description: 'A page of your notifications, the most recently updated first.',
  })
  @ApiProblems(400, {
    status: 400,
    key: 'invalid-unreadOnly',
    slug: 'validation-failed',
    title: 'Validation failed',
    detail: 'unreadOnly must be true or false',
    errors: [{ field: 'unreadOnly', message: 'unreadOnly must be true or false' }],
    description: 'Invalid input (problem details with errors[]).',
  })
  list(
    @CurrentTenant() tenant: Tenant,
    @Query() query: NotificationsQuery,
  ): Promise<Page<NotificationResponse>> {
    return this.notifications.list(tenant, query);
  }

  @Post('read-all')
  @HttpCode(200)
  @ApiOperation({ summary: 'Mark all my notifications read' })
  @ApiOkResponse({
    type: ReadAllResponse,
    description: 'All your unread notifications are now read; `updated` says how many were.',
  })
  @ApiProblems(UNEXPECTED_BODY)
  markAllRead(@CurrentTenant() tenant: Tenant): Promise<{ updated: number }> {
    return this.notifications.markAllRead(tenant);
  }

  @Post(':id/read')
  @HttpCode(200)
  @ApiUuidParam('id', 'The notification.', '01a2182a-9b53-7a19-b2c7-4e8f0d1a6c35')
  @ApiOperation({
    summary: 'Mark one notification read',
    description: 'Idempotent: keeps the first readAt.',
  })
  @ApiOkResponse({
    type: NotificationResponse,
    description: 'The notification, read (with the first readAt if it already was).',
  })
  @ApiProblems(invalidUuid('id'), UNEXPECTED_BODY, {
    status: 404,
    detail: 'Notification was not found.',
    description: 'Unknown, or not yours.',
  })
  markRead(
    @CurrentTenant() tenant: Tenant,
    @UuidParam('id') id: string,
  ): Promise<NotificationResponse> {
    return this.notifications.markRead(tenant, id);
  }
}
