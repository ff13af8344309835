import { Migration } from '@mikro-orm/migrations';
import { functionSql } from './sql';

const NAME = 'Migration20261207020000_consumer_rows_unchecked';

/**
 * The outbox's consumer rows lose their foreign key to their event (issue 17; BENCHMARKS.md,
 * "The consumer rows' foreign key"). Its check ran for every consumer row written (three a send:
 * the event streams' rows of the send's events and of the notification's, the relay's rows) and
 * key-share locked the event each time; on an outbox whose statistics were taken while it was
 * small, the check's cached plan scanned the whole table, a third of PostgreSQL's time in a send
 * run. What the key guaranteed is kept by construction:
 * - every writer of a consumer row writes it with its event (the outbox trigger, the relay's
 *   claim, which holds the events locked) or from its event, key-share locked
 *   (rm_process_notifications, rm_record_consumer_failure and the webhooks consumer, for a row the
 *   relay did not write), so no row is written for an event that is gone;
 * - rm_relay_prune deletes an event's consumer rows with it (the key's ON DELETE CASCADE), and
 *   sweeps any pending row left without its event once older than the pruning age.
 */
export const FUNCTION_FILES: [file: string, sha256: string][] = [
  [
    'platform/queues/sql/rm_relay_prune.sql',
    '6ad9a9c36d6af18a8781ce90986fe9930da08b437074a055d8e7888992c9c0de',
  ],
  [
    'notifications/sql/rm_process_notifications.sql',
    '03ae177486b532cc801124d92517d71fb992e06117633cbd5d804aecdb6d5226',
  ],
  [
    'platform/queues/sql/rm_record_consumer_failure.sql',
    '9adec55c7096bad44ce69d5889ba4fde5f3b446ab2fe80a959d57e7d41667ccf',
  ],
];

/** What each function was before this migration: its migration and checksum. */
const PREVIOUS: [file: string, migration: string, sha256: string][] = [
  [
    'platform/queues/sql/rm_relay_prune.sql',
    'Migration20261206220000_distribution_keys',
    '43fb868bed8c5c353a6e80d7e9f1076fe0b195214395176577dcc4d4a3a93cdd',
  ],
  [
    'notifications/sql/rm_process_notifications.sql',
    'Migration20261207010000_lighter_send',
    '0b1a01e38b8f2612090541fcd3fdfb4e83bc5e62a5601bbcaa230a44726dc0d7',
  ],
  [
    'platform/queues/sql/rm_record_consumer_failure.sql',
    'Migration20261206100000_sql_home',
    '9176ccc3796c9fdf892398f79d383c64e4967d4779f24810096d54efb9c2e3f7',
  ],
];

export class Migration20261207020000_consumer_rows_unchecked extends Migration {
  override up(): void {
    this.addSql('alter table event_consumers drop constraint event_consumers_event_id_fkey');
    for (const [file, sha256] of FUNCTION_FILES) this.addSql(functionSql(NAME, file, sha256));
  }

  override down(): void {
    for (const [file, migration, sha256] of [...PREVIOUS].reverse()) {
      this.addSql(functionSql(migration, file, sha256));
    }
    this.addSql(`delete from event_consumers c
                  where not exists (select 1 from outbox_events e
                                     where e.org_id = c.org_id and e.id = c.event_id)`);
    this.addSql(`alter table event_consumers add constraint event_consumers_event_id_fkey
                   foreign key (org_id, event_id) references outbox_events (org_id, id) on delete cascade`);
  }
}
