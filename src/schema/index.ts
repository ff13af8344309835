import { Membership, Org, User } from './members.entity';
import { MessageThread, ThreadParticipant } from './threads.entity';
import { Message, MessageRead } from './messages.entity';
import { UserBlock } from './blocks.entity';
import { OutboxEvent } from './outbox-events.entity';
import { EventConsumer } from './event-consumers.entity';
import { Notification } from './notifications.entity';
import { StreamCursor, StreamEvent, StreamTicket } from './streams.entity';
import { WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookRoute } from './webhooks.entity';

/**
 * The schema model: one MikroORM entity per table, mirroring what the migrations create (columns,
 * types, defaults, checks, indexes). Nothing at run time reads or writes through these entities:
 * the service's SQL lives in its repositories and in the modules' sql/ functions, run in the
 * tenant transaction (docs/architecture.md, "One data path"). They exist so that
 * `npm run migration:check` (and test/foundation/migrations.test.ts) can tell when a migration and
 * the model disagree.
 */
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
  StreamCursor,
  StreamEvent,
  StreamTicket,
];
