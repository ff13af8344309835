import { toMemberSummary, toMessageResponse } from '../../messages/dto/message.mapper';
import type { ParticipantView, ViewerContext } from '../../messages/messages.repository';
import type { ThreadRow } from '../threads.repository';
import type { ThreadResponse } from './thread.response';

export function otherOf(row: ThreadRow): ParticipantView {
  return {
    userId: row.otherId,
    displayName: row.otherName,
    role: row.otherRole,
    readReceipts: row.otherReceipts,
    receiptsSince: new Date(row.otherReceiptsSince),
  };
}

/** The viewer context of a thread, from its row (saves the separate viewer query). */
export function viewerOf(row: ThreadRow, me: ParticipantView): ViewerContext {
  return {
    threadId: row.id,
    kind: row.kind,
    createdAt: row.createdAt,
    blocksOther: row.blocksOther,
    lastReadSeq: row.lastReadSeq,
    lastVisibleSeq: row.lastVisibleSeq,
    me,
    other: otherOf(row),
  };
}

export function toThreadResponse(row: ThreadRow, me: ParticipantView): ThreadResponse {
  const other = otherOf(row);
  return {
    id: row.id,
    kind: row.kind,
    participants: [toMemberSummary(me), toMemberSummary(other)],
    lastMessage: row.lastMessage ? toMessageResponse(row.lastMessage, { me, other }) : null,
    lastMessageAt: row.lastMessageAt ? new Date(row.lastMessageAt).toISOString() : null,
    unreadCount: row.unreadCount,
    createdAt: new Date(row.createdAt).toISOString(),
  };
}
