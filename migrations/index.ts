import { Migration20261126120000_foundation } from './Migration20261126120000_foundation';
import { Migration20261126130000_messaging } from './Migration20261126130000_messaging';
import { Migration20261126140000_blocks } from './Migration20261126140000_blocks';
import { Migration20261126150000_notifications } from './Migration20261126150000_notifications';
import { Migration20261126160000_webhooks } from './Migration20261126160000_webhooks';
import { Migration20261126170000_audit_fixes } from './Migration20261126170000_audit_fixes';
import { Migration20261206090000_security_review } from './Migration20261206090000_security_review';
import { Migration20261206100000_sql_home } from './Migration20261206100000_sql_home';
import { Migration20261206120000_event_stream } from './Migration20261206120000_event_stream';
import { Migration20261206130000_stream_wake } from './Migration20261206130000_stream_wake';
import { Migration20261206140000_outbox_metrics } from './Migration20261206140000_outbox_metrics';
import { Migration20261206150000_tracing } from './Migration20261206150000_tracing';
import { Migration20261206160000_webhook_throughput } from './Migration20261206160000_webhook_throughput';
import { Migration20261206220000_distribution_keys } from './Migration20261206220000_distribution_keys';
import { Migration20261206230000_one_round_trip } from './Migration20261206230000_one_round_trip';
import { Migration20261207000000_one_statement_reads } from './Migration20261207000000_one_statement_reads';
import { Migration20261207010000_lighter_send } from './Migration20261207010000_lighter_send';
import { Migration20261207020000_consumer_rows_unchecked } from './Migration20261207020000_consumer_rows_unchecked';
import { Migration20261207030000_flat_tenant_entry } from './Migration20261207030000_flat_tenant_entry';
import { Migration20261207040000_notification_batches } from './Migration20261207040000_notification_batches';
import { Migration20261207050000_generic_thread_views } from './Migration20261207050000_generic_thread_views';
import { Migration20261207060000_batch_waits_for_relay } from './Migration20261207060000_batch_waits_for_relay';

/**
 * Every migration, in order. Listed explicitly so that compiled builds, tests and the CLI all
 * run the same set without globbing the file system.
 */
export const migrationsList = [
  { name: 'Migration20261126120000_foundation', class: Migration20261126120000_foundation },
  { name: 'Migration20261126130000_messaging', class: Migration20261126130000_messaging },
  { name: 'Migration20261126140000_blocks', class: Migration20261126140000_blocks },
  { name: 'Migration20261126150000_notifications', class: Migration20261126150000_notifications },
  { name: 'Migration20261126160000_webhooks', class: Migration20261126160000_webhooks },
  { name: 'Migration20261126170000_audit_fixes', class: Migration20261126170000_audit_fixes },
  {
    name: 'Migration20261206090000_security_review',
    class: Migration20261206090000_security_review,
  },
  { name: 'Migration20261206100000_sql_home', class: Migration20261206100000_sql_home },
  { name: 'Migration20261206120000_event_stream', class: Migration20261206120000_event_stream },
  { name: 'Migration20261206130000_stream_wake', class: Migration20261206130000_stream_wake },
  {
    name: 'Migration20261206140000_outbox_metrics',
    class: Migration20261206140000_outbox_metrics,
  },
  { name: 'Migration20261206150000_tracing', class: Migration20261206150000_tracing },
  {
    name: 'Migration20261206160000_webhook_throughput',
    class: Migration20261206160000_webhook_throughput,
  },
  {
    name: 'Migration20261206220000_distribution_keys',
    class: Migration20261206220000_distribution_keys,
  },
  {
    name: 'Migration20261206230000_one_round_trip',
    class: Migration20261206230000_one_round_trip,
  },
  {
    name: 'Migration20261207000000_one_statement_reads',
    class: Migration20261207000000_one_statement_reads,
  },
  {
    name: 'Migration20261207010000_lighter_send',
    class: Migration20261207010000_lighter_send,
  },
  {
    name: 'Migration20261207020000_consumer_rows_unchecked',
    class: Migration20261207020000_consumer_rows_unchecked,
  },
  {
    name: 'Migration20261207030000_flat_tenant_entry',
    class: Migration20261207030000_flat_tenant_entry,
  },
  {
    name: 'Migration20261207040000_notification_batches',
    class: Migration20261207040000_notification_batches,
  },
  {
    name: 'Migration20261207050000_generic_thread_views',
    class: Migration20261207050000_generic_thread_views,
  },
  {
    name: 'Migration20261207060000_batch_waits_for_relay',
    class: Migration20261207060000_batch_waits_for_relay,
  },
];
