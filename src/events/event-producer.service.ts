import { Injectable } from '@nestjs/common';
import type { ThreadParticipantRow } from '../conversations/conversations.repository';
import { ConversationsService } from '../conversations/conversations.service';
import { NotificationsService } from '../notifications/notifications.service';
import { EventsRepository, type NewStreamEvent, type OutboxEventRow } from './events.repository';
import type { Published, StreamEventData, StreamEventName } from './stream-events';

/** One event for one member, before it is numbered: what is kept, and what is sent live. */
interface Delivery {
  stored: NewStreamEvent;
  live: StreamEventData[StreamEventName];
}

/**
 * The `events` consumer of the outbox, in the org's tenant transaction: decides which members each
 * outbox event concerns and what each may see of it (blocks and receipt rules exactly as in the
 * REST views), renders it as that member's GET would show it, appends it to their stream
 * (stream_events, numbered per member) and returns what to publish once the transaction commits.
 *
 * Who hears of what (SPEC §4a):
 * - thread.created: the recipient, unless they block the starter (a 'silent' start);
 * - message.created: the sender (every stream), and the other participant when they may see it
 *   (not withheld, not blocked by them now), then their unread counts;
 * - message.deleted: the sender, and the other participant when they could see the message;
 * - message.read: the reader (and their unread count), and the other participant when receipts
 *   are visible to them and they may see the message named;
 * - notification.created: the notification's owner, unless a block hides it;
 * - unread.changed (a block changed the blocker's counts): the blocker.
 */
@Injectable()
export class EventProducer {
  constructor(
    private readonly repo: EventsRepository,
    private readonly conversations: ConversationsService,
    private readonly notifications: NotificationsService,
  ) {}

  async produce(orgId: string, eventIds: string[]): Promise<Published[]> {
    const events = await this.repo.pending(eventIds);
    if (!events.length) return [];
    const threadIds = events.flatMap((e) => (e.threadId ? [e.threadId] : []));
    const participants = new Map<string, ThreadParticipantRow[]>();
    for (const p of await this.conversations.participants(threadIds)) {
      participants.set(p.threadId, [...(participants.get(p.threadId) ?? []), p]);
    }
    const partOf = (e: OutboxEventRow, userId: string | null) =>
      participants.get(e.threadId ?? '')?.find((p) => p.userId === userId);
    const otherOf = (e: OutboxEventRow, userId: string | null) =>
      participants.get(e.threadId ?? '')?.find((p) => p.userId !== userId);

    // What to render, gathered first so that each kind is one query for the batch.
    const messagePairs: { viewerId: string; messageId: string }[] = [];
    const notificationIds: string[] = [];
    for (const e of events) {
      if (e.type === 'message.created' && e.messageId) {
        messagePairs.push({ viewerId: e.actorId!, messageId: e.messageId });
        const other = otherOf(e, e.actorId);
        if (other && !e.data.withheld)
          messagePairs.push({ viewerId: other.userId, messageId: e.messageId });
      } else if (e.type === 'message.read' && e.messageId && e.data.receipts !== false) {
        const other = otherOf(e, e.actorId);
        if (other) messagePairs.push({ viewerId: other.userId, messageId: e.messageId });
      } else if (e.type === 'notification.created') {
        notificationIds.push(String(e.data.notificationId));
      }
    }
    const messages = await this.conversations.messagesAsSeenBy(messagePairs);
    const notifications = await this.notifications.asSeenByOwners(orgId, notificationIds);

    const deliveries: Delivery[] = [];
    const unread = new Set<string>();
    const deliver = <E extends StreamEventName>(
      userId: string,
      type: E,
      live: StreamEventData[E],
      refs: { threadId?: string | null; messageId?: string | null; notificationId?: string | null },
      stored: Record<string, unknown> = {},
    ) =>
      deliveries.push({
        stored: {
          userId,
          type,
          threadId: refs.threadId ?? null,
          messageId: refs.messageId ?? null,
          notificationId: refs.notificationId ?? null,
          data: stored,
        },
        live,
      });

    // A batch's notifications go last, after the counts: the order a member sees does not depend
    // on whether the worker's notification came in the same batch as its message or a later one.
    const notified: {
      found: NonNullable<ReturnType<typeof notifications.get>>;
      threadId: string | null;
    }[] = [];
    for (const e of events) {
      switch (e.type) {
        case 'thread.created': {
          if (e.data.silent) break;
          const recipient = partOf(e, String(e.data.recipientId));
          const thread =
            recipient && (await this.conversations.threadAsSeenBy(recipient, e.threadId!));
          if (thread)
            deliver(recipient.userId, 'thread.created', { thread }, { threadId: e.threadId });
          break;
        }
        case 'message.created': {
          const other = otherOf(e, e.actorId);
          for (const viewer of [e.actorId!, other?.userId]) {
            const message = viewer && messages.get(`${viewer}/${e.messageId}`);
            if (!viewer || !message) continue;
            const refs = { threadId: e.threadId, messageId: e.messageId };
            deliver(viewer, 'message.created', { threadId: e.threadId!, message }, refs);
            if (viewer !== e.actorId || e.data.senderRead) unread.add(viewer);
          }
          break;
        }
        case 'message.deleted': {
          const refs = { threadId: e.threadId, messageId: e.messageId };
          const data = { threadId: e.threadId!, messageId: e.messageId! };
          deliver(e.actorId!, 'message.deleted', data, refs, data);
          const other = otherOf(e, e.actorId);
          if (other && !e.data.withheld && !other.blocksOther) {
            deliver(other.userId, 'message.deleted', data, refs, data);
            unread.add(other.userId);
          }
          break;
        }
        case 'message.read': {
          const data = {
            threadId: e.threadId!,
            readerId: e.actorId!,
            lastReadMessageId: e.messageId!,
            readAt: new Date(e.createdAt).toISOString(),
          };
          const refs = { threadId: e.threadId, messageId: e.messageId };
          deliver(e.actorId!, 'message.read', data, refs, data);
          unread.add(e.actorId!);
          const reader = partOf(e, e.actorId);
          const other = otherOf(e, e.actorId);
          if (
            reader &&
            other &&
            e.data.receipts !== false &&
            messages.has(`${other.userId}/${e.messageId}`) &&
            this.conversations.receiptVisibleTo(reader, other, new Date(e.createdAt))
          ) {
            deliver(other.userId, 'message.read', data, refs, data);
          }
          break;
        }
        case 'notification.created': {
          const found = notifications.get(String(e.data.notificationId));
          if (found) notified.push({ found, threadId: e.threadId });
          break;
        }
        case 'unread.changed':
          unread.add(String(e.data.userId));
          break;
      }
    }

    const counts = await this.conversations.unreadCounts(orgId, [...unread]);
    for (const [userId, count] of counts)
      deliver(userId, 'unread.changed', count, {}, { ...count });
    for (const { found, threadId } of notified) {
      deliver(
        found.userId,
        'notification.created',
        { notification: found.notification },
        { threadId, notificationId: found.notification.id },
      );
    }

    const { epochs, seqs } = await this.repo.finish(
      orgId,
      events.map((e) => e.id),
      deliveries.map((d) => d.stored),
    );
    if (!deliveries.length) return [];
    const byMember = new Map<string, Published>();
    deliveries.forEach((d, i) => {
      const userId = d.stored.userId;
      const published = byMember.get(userId) ?? {
        orgId,
        userId,
        epoch: epochs.get(userId)!,
        events: [],
      };
      published.events.push({ seq: seqs[i], event: d.stored.type, data: d.live });
      byMember.set(userId, published);
    });
    return [...byMember.values()];
  }
}
