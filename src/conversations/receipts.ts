/**
 * Read-receipt visibility (SPEC §2 "Read receipts"). Pure rules, unit-tested. The event streams'
 * read events use it; a message's `seenBy` is rendered by PostgreSQL with the same rule
 * (sql/rm_message_view.sql), and the receipts tests check both through the API.
 */

export interface ReceiptParty {
  readReceipts: boolean;
  /** When this member last turned receipts on (or joined). */
  receiptsSince: Date;
}

/**
 * Whether `viewer` may see that `reader` saw a message at `seenAt`. A member with receipts off
 * emits none and sees none; turning receipts back on reveals only reads made from then on, for
 * both the reader and the viewer.
 */
export function receiptVisible(
  reader: ReceiptParty,
  viewer: ReceiptParty,
  seenAt: Date | null,
): boolean {
  if (!seenAt || !reader.readReceipts || !viewer.readReceipts) return false;
  const since = Math.max(reader.receiptsSince.getTime(), viewer.receiptsSince.getTime());
  return seenAt.getTime() >= since;
}
