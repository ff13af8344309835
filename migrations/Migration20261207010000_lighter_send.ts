import { Migration } from '@mikro-orm/migrations';
import { functionSql } from './sql';

const NAME = 'Migration20261207010000_lighter_send';

/**
 * A lighter send for PostgreSQL (issue 17, item 2; BENCHMARKS.md "Lighter send SQL"):
 * - rm_send_message runs fewer statements: both participant rows are read and locked with their
 *   memberships in one (the recipient's active, the sender's read receipts), written in one; the
 *   notifications' read (rm_after_read, a LANGUAGE sql function planned again in every
 *   transaction) is inline; the outbox rows of a send (the sender's message.read, message.created)
 *   are one insert, so the outbox trigger runs once a send;
 * - rm_uuid_v7_at is PL/pgSQL (its plan kept for the session) instead of a SQL function that
 *   cannot be inlined and was planned again on each call in each transaction (ids of messages,
 *   outbox events, notifications);
 * - rm_process_notifications (the notifications consumer, per event) reads the event with its
 *   consumer row (locked) in one statement and the message with the recipient's participant row
 *   (locked) and membership in one, and writes the consumer row only when the relay has not.
 * Same results and rules; the functions keep their signatures, owners and grants.
 */
export const FUNCTION_FILES: [file: string, sha256: string][] = [
  [
    'platform/database/sql/rm_uuid_v7_at.sql',
    '0a7af1a8b095d4d21e494578f4a40153dd5847814ae1964d8ed6bd8cde246102',
  ],
  [
    'conversations/sql/rm_send_message.sql',
    '73185e3efbb52c0aeec3dddc3169b82bca738e2cb25d1440986fd422767207a7',
  ],
  [
    'notifications/sql/rm_process_notifications.sql',
    '0b1a01e38b8f2612090541fcd3fdfb4e83bc5e62a5601bbcaa230a44726dc0d7',
  ],
];

/** What each function was before this migration: its migration and checksum. */
const PREVIOUS: [file: string, migration: string, sha256: string][] = [
  [
    'platform/database/sql/rm_uuid_v7_at.sql',
    'Migration20261206100000_sql_home',
    'c711e07c474073cb53d1c4fa2e6284e09b68738e59f7a0350ad6c55bd72a74c2',
  ],
  [
    'conversations/sql/rm_send_message.sql',
    'Migration20261206120000_event_stream',
    '0a7862220c618fd1d9de72b12070be5b138a0822bd83a46fed2c1cc2d3a533db',
  ],
  [
    'notifications/sql/rm_process_notifications.sql',
    'Migration20261206130000_stream_wake',
    '1984273851d90721385a4b23bf128c198d52a084650930f09fde277e23f7ef21',
  ],
];

export class Migration20261207010000_lighter_send extends Migration {
  override up(): void {
    for (const [file, sha256] of FUNCTION_FILES) this.addSql(functionSql(NAME, file, sha256));
  }

  override down(): void {
    for (const [file, migration, sha256] of [...PREVIOUS].reverse()) {
      this.addSql(functionSql(migration, file, sha256));
    }
  }
}
