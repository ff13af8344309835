import { toMemberSummary, toMessageResponse } from '../../messages/dto/message.mapper';
import {
  toViewerContext,
  type ParticipantView,
  type ViewerContext,
} from '../../messages/messages.repository';
import type { ThreadRow } from '../threads.repository';
import type { ThreadResponse } from './thread.response';

/** The viewer context of a thread, from its row (saves the separate viewer query). */
export function viewerOf(row: ThreadRow, me: ParticipantView): ViewerContext {
  return toViewerContext(row, me);
}

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
