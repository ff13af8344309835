import type { MessageRow, ParticipantView, ViewerContext } from '../conversations.rows';
import { receiptVisible } from '../receipts';
import type { MemberSummary } from '../../members/dto/member-summary.response';
import type { MessageResponse } from './message.response';

export function toMemberSummary(p: ParticipantView): MemberSummary {
  return { userId: p.userId, displayName: p.displayName, role: p.role };
}

/** A message as `ctx.me` may see it: sender info, tombstone, receipts under the visibility rules. */
export function toMessageResponse(
  row: MessageRow,
  ctx: Pick<ViewerContext, 'me' | 'other'>,
): MessageResponse {
  const mine = row.senderId === ctx.me.userId;
  const sender = mine ? ctx.me : ctx.other;
  const reader = mine ? ctx.other : ctx.me;
  const seenAt = row.seenAt ? new Date(row.seenAt) : null;
  const seen = receiptVisible(reader, ctx.me, seenAt);
  return {
    id: row.id,
    threadId: row.threadId,
    seq: row.seq,
    sender: toMemberSummary(sender),
    body: row.deletedAt ? null : row.body,
    clientMessageId: mine ? row.clientMessageId : null,
    createdAt: new Date(row.createdAt).toISOString(),
    deleted: row.deletedAt !== null,
    deletedAt: row.deletedAt ? new Date(row.deletedAt).toISOString() : null,
    seenBy: seen && seenAt ? [{ userId: reader.userId, seenAt: seenAt.toISOString() }] : [],
  };
}
