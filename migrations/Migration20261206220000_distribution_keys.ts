import { Migration } from '@mikro-orm/migrations';
import { functionSql } from './sql';

const NAME = 'Migration20261206220000_distribution_keys';

/**
 * Keys a distributed PostgreSQL (Citus) can shard by org (issue 20): `org_id` leads the primary
 * key, every unique constraint and every foreign key between tenant tables, so that each org's
 * rows, and every check on them, stay on one shard (docs/scaling.md). The constraints are
 * replaced in place: the rows stay where they are (a key that held on `id` holds on
 * `(org_id, id)`). orgs and users stay reference tables; keys into them are unchanged.
 *
 * The relay's cross-org functions join on `(org_id, id)` so that they use the new keys; the relay
 * may read an endpoint's org_id for that (with its id and failing_since: no URL, no secret).
 */
export const FUNCTION_FILES: [file: string, sha256: string][] = [
  [
    'platform/queues/sql/rm_relay_claim.sql',
    '2d57ac76c14d6bc4b44ed716af7be591c6e1ba3495b3ac5ac94df438ed5003b9',
  ],
  [
    'platform/queues/sql/rm_events_claim.sql',
    '1baf03b00b81d4b814e4d789ab9c68e40858e733eda9522923ca9bf5a83a4484',
  ],
  [
    'platform/queues/sql/rm_relay_due.sql',
    'ed4e36c165dd685e8ffa11f13fcabf7e72830da45d2f79b5fd96531d43781018',
  ],
  [
    'platform/queues/sql/rm_relay_prune.sql',
    '43fb868bed8c5c353a6e80d7e9f1076fe0b195214395176577dcc4d4a3a93cdd',
  ],
  [
    'webhooks/sql/rm_relay_claim_deliveries.sql',
    '6afac6aa2eca9036fb919cfbf190a9e263c46a3f74180545daa5235f62bc22b5',
  ],
];

/** Each function as the migration before this one left it: [migration, file, sha256]. */
const PREVIOUS: [migration: string, file: string, sha256: string][] = [
  [
    'Migration20261206150000_tracing',
    'platform/queues/sql/rm_relay_claim.sql',
    '3cdf2aca80a8faacfda80820ee8cb54af3506bc5611a3024af949ececc0fa722',
  ],
  [
    'Migration20261206120000_event_stream',
    'platform/queues/sql/rm_events_claim.sql',
    'b6d6650e284920cdb67ce5d2588f895dc4e089791bba3d5c5067298a5fbb4fd4',
  ],
  [
    'Migration20261206120000_event_stream',
    'platform/queues/sql/rm_relay_due.sql',
    '9e5e8e1bcf849137b2f6522e1cdcf4098e938cc5e7d0c5c6cefe1f3d56ef2ac6',
  ],
  [
    'Migration20261206100000_sql_home',
    'platform/queues/sql/rm_relay_prune.sql',
    'fbea265c06d07c92b38d4e685df18f6efe6dfd690bc2f214401c368699efcfed',
  ],
  [
    'Migration20261206160000_webhook_throughput',
    'webhooks/sql/rm_relay_claim_deliveries.sql',
    '7a073f36f626448c5babd53498d20109ebc3d4425561b97ff0e5159a5b4bef5e',
  ],
];

/** Each table's keys, before and after: [constraint, old definition, new definition]. */
const KEYS: [table: string, constraint: string, before: string, after: string][] = [
  ['message_threads', 'message_threads_pkey', 'primary key (id)', 'primary key (org_id, id)'],
  [
    'thread_participants',
    'thread_participants_pkey',
    'primary key (thread_id, user_id)',
    'primary key (org_id, thread_id, user_id)',
  ],
  ['messages', 'messages_pkey', 'primary key (id)', 'primary key (org_id, id)'],
  [
    'messages',
    'messages_thread_seq_key',
    'unique (thread_id, seq)',
    'unique (org_id, thread_id, seq)',
  ],
  [
    'message_reads',
    'message_reads_pkey',
    'primary key (thread_id, reader_id, to_seq)',
    'primary key (org_id, thread_id, reader_id, to_seq)',
  ],
  ['outbox_events', 'outbox_events_pkey', 'primary key (id)', 'primary key (org_id, id)'],
  [
    'event_consumers',
    'event_consumers_pkey',
    'primary key (event_id, consumer)',
    'primary key (org_id, event_id, consumer)',
  ],
  ['notifications', 'notifications_pkey', 'primary key (id)', 'primary key (org_id, id)'],
  ['webhook_endpoints', 'webhook_endpoints_pkey', 'primary key (id)', 'primary key (org_id, id)'],
  ['webhook_deliveries', 'webhook_deliveries_pkey', 'primary key (id)', 'primary key (org_id, id)'],
  [
    'webhook_deliveries',
    'webhook_deliveries_event_endpoint_key',
    'unique (event_id, endpoint_id)',
    'unique (org_id, event_id, endpoint_id)',
  ],
  ['webhook_attempts', 'webhook_attempts_pkey', 'primary key (id)', 'primary key (org_id, id)'],
  [
    'webhook_attempts',
    'webhook_attempts_delivery_attempt_key',
    'unique (delivery_id, attempt)',
    'unique (org_id, delivery_id, attempt)',
  ],
];

/** Foreign keys between tenant tables: [table, constraint, old definition, new definition]. */
const FOREIGN_KEYS: [table: string, constraint: string, before: string, after: string][] = [
  [
    'thread_participants',
    'thread_participants_thread_id_fkey',
    'foreign key (thread_id) references message_threads (id)',
    'foreign key (org_id, thread_id) references message_threads (org_id, id)',
  ],
  [
    'messages',
    'messages_thread_id_fkey',
    'foreign key (thread_id) references message_threads (id)',
    'foreign key (org_id, thread_id) references message_threads (org_id, id)',
  ],
  [
    'message_reads',
    'message_reads_thread_id_fkey',
    'foreign key (thread_id) references message_threads (id)',
    'foreign key (org_id, thread_id) references message_threads (org_id, id)',
  ],
  [
    'notifications',
    'notifications_thread_id_fkey',
    'foreign key (thread_id) references message_threads (id)',
    'foreign key (org_id, thread_id) references message_threads (org_id, id)',
  ],
  [
    'notifications',
    'notifications_endpoint_id_fkey',
    'foreign key (endpoint_id) references webhook_endpoints (id) on delete cascade',
    'foreign key (org_id, endpoint_id) references webhook_endpoints (org_id, id) on delete cascade',
  ],
  [
    'event_consumers',
    'event_consumers_event_id_fkey',
    'foreign key (event_id) references outbox_events (id) on delete cascade',
    'foreign key (org_id, event_id) references outbox_events (org_id, id) on delete cascade',
  ],
  [
    'webhook_deliveries',
    'webhook_deliveries_endpoint_id_fkey',
    'foreign key (endpoint_id) references webhook_endpoints (id) on delete cascade',
    'foreign key (org_id, endpoint_id) references webhook_endpoints (org_id, id) on delete cascade',
  ],
  [
    'webhook_attempts',
    'webhook_attempts_delivery_id_fkey',
    'foreign key (delivery_id) references webhook_deliveries (id) on delete cascade',
    'foreign key (org_id, delivery_id) references webhook_deliveries (org_id, id) on delete cascade',
  ],
];

/** The delivery log of an endpoint, read by its org: the index leads with the org. */
const DELIVERY_LOG_INDEX = 'webhook_deliveries_endpoint_idx';

export class Migration20261206220000_distribution_keys extends Migration {
  override up(): void {
    this.swap('after');
    this.addSql(`drop index ${DELIVERY_LOG_INDEX}`);
    this.addSql(
      `create index ${DELIVERY_LOG_INDEX} on webhook_deliveries (org_id, endpoint_id, created_at desc, id desc)`,
    );
    this.addSql(`grant select (org_id) on webhook_endpoints to rm_relay`);
    for (const [file, sha256] of FUNCTION_FILES) this.addSql(functionSql(NAME, file, sha256));
  }

  override down(): void {
    this.addSql(`revoke select (org_id) on webhook_endpoints from rm_relay`);
    for (const [migration, file, sha256] of PREVIOUS)
      this.addSql(functionSql(migration, file, sha256));
    this.addSql(`drop index ${DELIVERY_LOG_INDEX}`);
    this.addSql(
      `create index ${DELIVERY_LOG_INDEX} on webhook_deliveries (endpoint_id, created_at desc, id desc)`,
    );
    this.swap('before');
  }

  /** Drops the foreign keys, replaces the keys they point at, and adds them back. */
  private swap(to: 'before' | 'after'): void {
    const pick = (before: string, after: string) => (to === 'after' ? after : before);
    for (const [table, name] of FOREIGN_KEYS)
      this.addSql(`alter table ${table} drop constraint ${name}`);
    for (const [table, name, before, after] of KEYS) {
      this.addSql(`alter table ${table} drop constraint ${name}`);
      this.addSql(`alter table ${table} add constraint ${name} ${pick(before, after)}`);
    }
    for (const [table, name, before, after] of FOREIGN_KEYS)
      this.addSql(`alter table ${table} add constraint ${name} ${pick(before, after)}`);
  }
}
