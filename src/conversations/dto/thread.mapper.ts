import { toMemberSummary, toMessageResponse } from './message.mapper';
import { toViewerContext, type ParticipantView, type ThreadRow } from '../conversations.rows';
import type { ThreadResponse } from './thread.response';

export function toThreadResponse(row: ThreadRow, me: ParticipantView): ThreadResponse {
  const { other } = toViewerContext(row, me);
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
