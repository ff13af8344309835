import { ApiProperty } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { PageOf, PageQuery } from '../../platform/http/pagination';
import type { WebhookEventType } from '../../platform/queues/outbox-types';
import { DELIVERY_STATUSES, type DeliveryStatus, type DisabledReason } from '../webhook-types';
import { IsOmittable } from '../../platform/http/decorators';
import { ApiEnumProperty, ApiEnumPropertyOptional } from '../../platform/http/named-schemas';
import {
  WebhookDeliveryStatusEnum,
  WebhookEndpointDisabledReasonEnum,
  WebhookEventTypeEnum,
} from './webhook-enums';

export class EndpointResponse {
  @ApiProperty({ format: 'uuid', example: '01a218b4-1d64-760c-9340-8ee79091f7cb' })
  id!: string;

  @ApiProperty({ example: 'https://hooks.example.com/resident-messaging' })
  url!: string;

  @ApiEnumProperty(WebhookEventTypeEnum, {
    isArray: true,
    example: ['message.created', 'message.read'],
  })
  events!: WebhookEventType[];

  @ApiProperty({ type: String, nullable: true, example: 'CRM sync' })
  description!: string | null;

  @ApiProperty({
    example: false,
    description: 'Whether message.created payloads carry the message text.',
  })
  includeMessageBody!: boolean;

  @ApiProperty({ example: true, description: 'false: no deliveries are attempted.' })
  enabled!: boolean;

  @ApiEnumProperty(WebhookEndpointDisabledReasonEnum, {
    nullable: true,
    example: null,
    description: 'null while enabled; otherwise why the endpoint was disabled.',
  })
  disabledReason!: DisabledReason | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    example: '2026-11-26T16:34:01.402Z',
    description: 'Since when every attempt has failed; null while deliveries succeed.',
  })
  failingSince!: string | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    example: '2026-11-27T16:41:20.137Z',
    description:
      'After a rotation: until when the previous secret still signs alongside the current one; null when only the current secret signs.',
  })
  previousSecretExpiresAt!: string | null;

  @ApiProperty({ format: 'date-time', example: '2026-11-26T16:33:06.914Z' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-26T16:33:06.914Z' })
  updatedAt!: string;
}

export class EndpointWithSecretResponse extends EndpointResponse {
  @ApiProperty({
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    description: 'The signing secret. Shown only here (on creation and rotation): store it now.',
  })
  secret!: string;
}

export class EndpointPageResponse extends PageOf(EndpointResponse, 'EndpointPageResponse') {
  @ApiProperty({
    type: String,
    example:
      'WyIyMDI2LTExLTI2VDE2OjMzOjA2LjkxNFoiLCIwMWEyMThiNC0xZDY0LTc2MGMtOTM0MC04ZWU3OTA5MWY3Y2IiXQ',
  })
  override nextCursor!: string | null;
}

export class DeliveryResponse {
  @ApiProperty({
    format: 'uuid',
    example: '01a218b4-f1bb-7c2e-9a51-3d0c5e8f7a21',
    description:
      'The delivery (one event to one endpoint). Its webhook-id header is `msg_` followed by this id without dashes, the same on every attempt and manual redelivery.',
  })
  id!: string;

  @ApiProperty({
    format: 'uuid',
    example: '01a218b4-f1b0-7a11-8c3d-2b9e4f6a1c05',
    description: 'The outbox event the delivery carries.',
  })
  eventId!: string;

  @ApiEnumProperty(WebhookEventTypeEnum, { example: 'message.created' })
  eventType!: WebhookEventType;

  @ApiEnumProperty(WebhookDeliveryStatusEnum, {
    example: 'failed',
    description:
      'pending: not attempted yet; failed: the last attempt failed (nextAttemptAt says when the next runs); succeeded: the last attempt succeeded; exhausted: no attempts left. A manual retry makes an exhausted delivery failed (due now) and leaves a succeeded one succeeded, with nextAttemptAt set until the redelivery has run.',
  })
  status!: DeliveryStatus;

  @ApiProperty({ type: 'integer', example: 2, description: 'Attempts made so far.' })
  attempts!: number;

  @ApiProperty({
    type: 'integer',
    nullable: true,
    example: 503,
    description:
      'The receiver’s HTTP status at the last attempt; null before the first attempt or when the last one got no answer (timeout, refused).',
  })
  lastStatusCode!: number | null;

  @ApiProperty({ type: String, nullable: true, example: 'HTTP 503' })
  lastError!: string | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    example: '2026-11-26T16:36:03.918Z',
    description: 'When the next attempt runs; null when none is due.',
  })
  nextAttemptAt!: string | null;

  @ApiProperty({ format: 'date-time', example: '2026-11-26T16:34:01.275Z' })
  createdAt!: string;
}

export class DeliveryPageResponse extends PageOf(DeliveryResponse, 'DeliveryPageResponse') {
  @ApiProperty({
    type: String,
    example:
      'WyIyMDI2LTExLTI2VDE2OjM0OjAxLjI3NTAwMFoiLCIwMWEyMThiNC1mMWJiLTdjMmUtOWE1MS0zZDBjNWU4ZjdhMjEiXQ',
  })
  override nextCursor!: string | null;
}

export class AttemptResponse {
  @ApiProperty({ type: 'integer', example: 1, description: '1 for the first attempt, and so on.' })
  attempt!: number;

  @ApiProperty({ format: 'date-time', example: '2026-11-26T16:34:01.402Z' })
  startedAt!: string;

  @ApiProperty({ type: 'integer', example: 84, description: 'Milliseconds the attempt took.' })
  durationMs!: number;

  @ApiProperty({
    type: 'integer',
    nullable: true,
    example: 503,
    description: 'The receiver’s HTTP status; null when no answer came (timeout, refused).',
  })
  statusCode!: number | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'HTTP 503',
    description: 'Why the attempt failed; null on success.',
  })
  error!: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: '{"error":"down for maintenance"}',
    description: 'The first 4 KB of the receiver’s answer.',
  })
  responseBody!: string | null;
}

export class AttemptListResponse {
  @ApiProperty({ type: () => [AttemptResponse] })
  data!: AttemptResponse[];
}

export class DeliveriesQuery extends PageQuery {
  @ApiEnumPropertyOptional(WebhookDeliveryStatusEnum, {
    description: 'Only deliveries in this status. Example: `failed`.',
  })
  @IsOmittable()
  @IsIn(DELIVERY_STATUSES)
  status?: DeliveryStatus;
}
