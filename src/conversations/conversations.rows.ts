import type { MemberRole } from '../platform/auth/roles';
import type { Tenant } from '../platform/tenancy/tenant-context';

/**
 * The row types of conversations, as the queries (conversations.queries.ts) return them.
 * Timestamps come back from node-postgres as Date objects, or as text where a query renders
 * them (the cursor keys, with microseconds); mappers turn them into ISO-8601.
 */

/** One side of a direct thread, as needed to render messages and receipts. */
export interface ParticipantView {
  userId: string;
  displayName: string;
  role: MemberRole;
  readReceipts: boolean;
  receiptsSince: Date;
}

/** Everything about a thread that rendering it for one viewer needs. */
export interface ViewerContext {
  threadId: string;
  kind: 'direct';
  createdAt: string;
  blocksOther: boolean;
  lastReadSeq: number;
  lastVisibleSeq: number | null;
  me: ParticipantView;
  other: ParticipantView;
}

export interface MessageRow {
  id: string;
  threadId: string;
  seq: number;
  senderId: string;
  body: string | null;
  clientMessageId: string | null;
  createdAt: string;
  deletedAt: string | null;
  /** When the non-sender's read pointer first passed this message (receipt rules not applied yet). */
  seenAt: string | null;
}

/** A row of ConversationQueries.viewer (the thread rows carry the same fields). */
export interface ViewerRow {
  threadId?: string;
  id?: string;
  kind: 'direct';
  createdAt: string;
  blocksOther: boolean;
  lastReadSeq: number;
  lastVisibleSeq: number | null;
  otherId: string;
  otherName: string;
  otherRole: MemberRole;
  otherReceipts: boolean;
  otherReceiptsSince: string;
}

/** A thread as its viewer sees it: the viewer state, the list fields and the last message. */
export interface ThreadRow extends Omit<ViewerRow, 'id' | 'threadId'> {
  id: string;
  lastMessageAt: string | null;
  unreadCount: number;
  /** activity_at with microseconds, for cursors. */
  activityKey: string;
  lastMessage: MessageRow | null;
}

export type StartStatus = 'created' | 'existing' | 'not-found' | 'blocked-by-you';

export type SendStatus =
  | 'created'
  | 'repeat'
  | 'key-conflict'
  | 'in-progress'
  | 'not-found'
  | 'blocked-by-you'
  | 'recipient-inactive';

/** What rm_send_message answers. */
export interface SendResult {
  status: SendStatus;
  messageId: string | null;
  seq: number | null;
  createdAt: string | null;
}

export type ReadStatus = 'moved' | 'unchanged' | 'not-found';

export type DeleteStatus = 'deleted' | 'already-deleted' | 'forbidden' | 'not-found';

/** The caller as a participant (their own membership, from the tenant transaction). */
export function participantOf(tenant: Tenant): ParticipantView {
  return {
    userId: tenant.userId,
    displayName: tenant.member.displayName,
    role: tenant.role,
    readReceipts: tenant.member.readReceipts,
    receiptsSince: new Date(tenant.member.receiptsSince),
  };
}

/** The viewer context from a viewer (or thread) row and the viewer's own membership. */
export function toViewerContext(row: ViewerRow, me: ParticipantView): ViewerContext {
  return {
    threadId: (row.threadId ?? row.id)!,
    kind: row.kind,
    createdAt: row.createdAt,
    blocksOther: row.blocksOther,
    lastReadSeq: row.lastReadSeq,
    lastVisibleSeq: row.lastVisibleSeq,
    me,
    other: {
      userId: row.otherId,
      displayName: row.otherName,
      role: row.otherRole,
      readReceipts: row.otherReceipts,
      receiptsSince: new Date(row.otherReceiptsSince),
    },
  };
}
