import { toMemberSummary, toMessageResponse } from '../../messages/dto/message.mapper';
import type { ParticipantView } from '../../messages/messages.repository';
import type { ThreadRow } from '../threads.repository';
import type { ThreadResponse } from './thread.response';

export function toThreadResponse(row: ThreadRow, me: ParticipantView): ThreadResponse {
  const other: ParticipantView = {
    userId: row.otherId,
    displayName: row.otherName,
    role: row.otherRole,
    readReceipts: row.otherReceipts,
    receiptsSince: new Date(row.otherReceiptsSince),
  };
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
