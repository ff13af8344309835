import type { MemberRole } from '../platform/auth/roles';
import type { Tenant } from '../platform/tenancy/tenant-context';
import type { ThreadResponse } from './dto/thread.response';

/**
 * The row types of conversations, as the queries (conversations.queries.ts) return them. Messages
 * and threads come back rendered by PostgreSQL as the API answers them (rm_message_view,
 * rm_thread_views), so no mapper here: these types carry what the service needs beside them.
 */

/** One side of a direct thread, as needed to render messages and receipts. */
export interface ParticipantView {
  userId: string;
  displayName: string;
  role: MemberRole;
  readReceipts: boolean;
  receiptsSince: Date;
}

/** A row of rm_thread_views: the thread as the API answers it, and what the service needs of it. */
export interface ThreadViewRow {
  threadId: string;
  activityKey: string;
  blocksOther: boolean;
  otherId: string;
  otherName: string;
  otherRole: MemberRole;
  otherReceipts: boolean;
  otherReceiptsSince: string;
  view: ThreadResponse;
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

/** The columns of rm_thread_views, named for ThreadViewRow. */
export const THREAD_VIEW_COLUMNS = `thread_id as "threadId", activity_key as "activityKey",
  blocks_other as "blocksOther", other_id as "otherId", other_name as "otherName",
  other_role as "otherRole", other_receipts as "otherReceipts",
  other_since as "otherReceiptsSince", view`;

/** A participant as rm_thread_views, rm_message_page and rm_message_view take it (5 parameters). */
export function partyParams(p: ParticipantView): unknown[] {
  return [p.userId, p.displayName, p.role, p.readReceipts, p.receiptsSince];
}
