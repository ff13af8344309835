import { Migration } from '@mikro-orm/migrations';

/**
 * Schema for the fixes of the security review (issue 12); the functions that use it are applied
 * from their files by the next migration.
 *
 * - rm_worker: the worker's login role. It inherits rm_app (tenant work in the event's org) and
 *   alone may execute the relay's cross-org functions, which the API's role rm_app no longer can.
 * - webhook_deliveries.body_message_id: the message whose text a delivery's payload carries, so
 *   that deleting the message takes the text out of every delivery still to be attempted.
 */
export class Migration20261206090000_security_review extends Migration {
  override up(): void {
    this.addSql(`
      do $$ begin
        if not exists (select 1 from pg_roles where rolname = 'rm_worker') then
          create role rm_worker nologin nosuperuser nobypassrls nocreatedb nocreaterole;
        end if;
      end $$`);
    this.addSql(`grant rm_app to rm_worker`);
    this.addSql(`alter role rm_worker set statement_timeout = '15s'`);
    this.addSql(`alter role rm_worker set lock_timeout = '5s'`);
    this.addSql(`alter role rm_worker set idle_in_transaction_session_timeout = '15s'`);

    this.addSql(`alter table webhook_deliveries add column body_message_id uuid`);
    this.addSql(`
      update webhook_deliveries set body_message_id = (payload::jsonb -> 'data' ->> 'messageId')::uuid
       where event_type = 'message.created' and payload::jsonb -> 'data' -> 'body' is not null`);
    this.addSql(`
      create index webhook_deliveries_body_message_idx on webhook_deliveries (org_id, body_message_id)
        where body_message_id is not null`);
  }

  override down(): void {
    this.addSql(`drop index if exists webhook_deliveries_body_message_idx`);
    this.addSql(`alter table webhook_deliveries drop column body_message_id`);
    this.addSql(`revoke rm_app from rm_worker`);
  }
}
