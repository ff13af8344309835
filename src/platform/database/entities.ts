import { Membership, Org, User } from '../../members/membership.entity';
import { MessageThread, ThreadParticipant } from '../../threads/message-thread.entity';
import { Message, MessageRead } from '../../messages/message.entity';
import { UserBlock } from '../../blocks/user-block.entity';
import { OutboxEvent } from '../queues/outbox-event.entity';
import { EventConsumer } from '../queues/event-consumer.entity';
import { Notification } from '../../notifications/notification.entity';
import {
  WebhookAttempt,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookRoute,
} from '../../webhooks/webhook.entities';

/** Every entity the ORM knows; the schema itself is owned by the migrations. */
export const entities = [
  Org,
  User,
  Membership,
  MessageThread,
  ThreadParticipant,
  Message,
  MessageRead,
  UserBlock,
  OutboxEvent,
  EventConsumer,
  Notification,
  WebhookEndpoint,
  WebhookRoute,
  WebhookDelivery,
  WebhookAttempt,
];
