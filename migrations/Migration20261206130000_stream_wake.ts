import { Migration } from '@mikro-orm/migrations';
import { FUNCTION_FILES as EVENT_STREAM_FILES } from './Migration20261206120000_event_stream';
import { functionSql } from './sql';

const NAME = 'Migration20261206130000_stream_wake';
const PREVIOUS = 'Migration20261206120000_event_stream';

/**
 * The event streams stop waiting for the relay (docs/events.md, "How it works"):
 * - a statement-level trigger on outbox_events (rm_outbox_stream_consumer) writes each event's
 *   `events` consumer row in the transaction that writes the event, so the event pump can start as
 *   soon as it commits; rm_relay_claim no longer writes those rows, and rm_events_feed (the relay's
 *   way of feeding the streams while Redis was away) goes: the rows are there without it;
 * - notification.created and a block's unread.changed, which only the streams consume, are
 *   written already published (the relay has nothing to hand out for them).
 * Events written before this migration and not yet relayed get their `events` row here.
 */
export const FUNCTION_FILES: [file: string, sha256: string][] = [
  [
    'platform/queues/sql/rm_outbox_stream_consumer.sql',
    'f55f2c4125041dc529608504f5d24604f139a8b98af14d2e2ff8b5ee5843d972',
  ],
  [
    'platform/queues/sql/rm_relay_claim.sql',
    '67595180a958d9e99a9c05da2db02e9304bd2645b894fd46e03cae7cfd412790',
  ],
  [
    'notifications/sql/rm_process_notifications.sql',
    '1984273851d90721385a4b23bf128c198d52a084650930f09fde277e23f7ef21',
  ],
  [
    'blocks/sql/rm_set_block.sql',
    'a43c4e1acb9b2b48b21c50c21ebfd9a12928404f8719b7b95cd39c2d6b6daebc',
  ],
];

export class Migration20261206130000_stream_wake extends Migration {
  override up(): void {
    for (const [file, sha256] of FUNCTION_FILES) this.addSql(functionSql(NAME, file, sha256));
    this.addSql(`revoke all on function rm_outbox_stream_consumer() from public`);
    this.addSql(`grant execute on function rm_outbox_stream_consumer() to rm_app`);
    this.addSql(`
      create trigger outbox_events_stream_consumer after insert on outbox_events
        referencing new table as inserted
        for each statement execute function rm_outbox_stream_consumer()`);
    this.addSql(`drop function if exists rm_events_feed(integer)`);
    this.addSql(`
      insert into event_consumers (event_id, org_id, consumer, next_attempt_at)
      select e.id, e.org_id, 'events', now() from outbox_events e where e.published_at is null
      on conflict do nothing`);
  }

  override down(): void {
    this.addSql(`drop trigger if exists outbox_events_stream_consumer on outbox_events`);
    this.addSql(`drop function if exists rm_outbox_stream_consumer()`);
    const restored = new Set(FUNCTION_FILES.map(([file]) => file));
    for (const [file, sha256] of EVENT_STREAM_FILES) {
      if (restored.has(file) || file.endsWith('/rm_events_feed.sql')) {
        this.addSql(functionSql(PREVIOUS, file, sha256));
      }
    }
    this.addSql(`alter function rm_events_feed(integer) owner to rm_relay`);
    this.addSql(`revoke all on function rm_events_feed(integer) from public, rm_app`);
    this.addSql(`grant execute on function rm_events_feed(integer) to rm_worker`);
  }
}
