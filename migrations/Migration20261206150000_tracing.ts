import { Migration } from '@mikro-orm/migrations';
import { functionSql } from './sql';

const NAME = 'Migration20261206150000_tracing';

/**
 * Traces across the outbox (docs/operations.md, "Traces"): an outbox event keeps the W3C
 * `traceparent` of the transaction that wrote it (the tenant transaction sets `rm.traceparent`
 * when its request or job is traced; the column's default reads it, so every writer of events,
 * functions and triggers included, records it without knowing), rm_relay_claim hands it to the
 * relay with each claimed event, and a webhook delivery keeps the one of the fan-out that created
 * it, for its attempts. Null when tracing is off.
 */
export const FUNCTION_FILES: [file: string, sha256: string][] = [
  [
    'platform/queues/sql/rm_relay_claim.sql',
    '3cdf2aca80a8faacfda80820ee8cb54af3506bc5611a3024af949ececc0fa722',
  ],
];

export class Migration20261206150000_tracing extends Migration {
  override up(): void {
    this.addSql(
      `alter table outbox_events add column traceparent text
         default nullif(current_setting('rm.traceparent', true), '')`,
    );
    this.addSql(`alter table webhook_deliveries add column traceparent text`);
    // The result type changes: replace, not redefine.
    this.addSql(`drop function rm_relay_claim(integer)`);
    for (const [file, sha256] of FUNCTION_FILES) this.addSql(functionSql(NAME, file, sha256));
    this.addSql(`alter function rm_relay_claim(integer) owner to rm_relay`);
    this.addSql(`revoke all on function rm_relay_claim(integer) from public, rm_app`);
    this.addSql(`grant execute on function rm_relay_claim(integer) to rm_worker`);
  }

  override down(): void {
    this.addSql(`drop function rm_relay_claim(integer)`);
    this.addSql(
      functionSql(
        'Migration20261206130000_stream_wake',
        'platform/queues/sql/rm_relay_claim.sql',
        '67595180a958d9e99a9c05da2db02e9304bd2645b894fd46e03cae7cfd412790',
      ),
    );
    this.addSql(`alter function rm_relay_claim(integer) owner to rm_relay`);
    this.addSql(`revoke all on function rm_relay_claim(integer) from public, rm_app`);
    this.addSql(`grant execute on function rm_relay_claim(integer) to rm_worker`);
    this.addSql(`alter table webhook_deliveries drop column traceparent`);
    this.addSql(`alter table outbox_events drop column traceparent`);
  }
}
