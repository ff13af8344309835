import { Migration } from '@mikro-orm/migrations';
import { functionSql } from './sql';

const NAME = 'Migration20261206160000_webhook_throughput';

/**
 * Webhook deliveries, batched and fair between endpoints (issue 19): the relay dispatches an
 * endpoint's due deliveries as one job (started and recorded in one statement each; an attempt
 * starts once per dispatch, by one job: webhook_deliveries.started_dispatch, started_job), and rm_relay_claim_deliveries
 * returns each delivery's endpoint for that and takes the most
 * deliveries an endpoint may have in flight (p_per_endpoint; one while it is failing) and finds the
 * endpoints with work by a skip scan, so one slow or failing receiver cannot fill the workers'
 * delivery slots nor keep the others' deliveries out of a claim. The due index leads with the
 * endpoint for that scan; a small partial index counts each endpoint's leased deliveries. The relay
 * may read two columns of the endpoints (id, failing_since): no URL, no secret. rm_outbox_backlog
 * counts a fifth stage, the deliveries not attempted yet (metrics, the worker's readiness answer).
 */
export const FUNCTION_FILES: [file: string, sha256: string][] = [
  [
    'webhooks/sql/rm_relay_claim_deliveries.sql',
    '7a073f36f626448c5babd53498d20109ebc3d4425561b97ff0e5159a5b4bef5e',
  ],
  [
    'platform/queues/sql/rm_outbox_backlog.sql',
    '717fc4f236773c0d52766febd852c4c6614ed3d8e941d157c19287d66aeeeaf3',
  ],
];

const SIGNATURE = 'rm_relay_claim_deliveries(integer, interval, integer)';
const OLD_SIGNATURE = 'rm_relay_claim_deliveries(integer, interval)';

export class Migration20261206160000_webhook_throughput extends Migration {
  override up(): void {
    // An attempt starts once per dispatch, by one job (which may run again, e.g. after a crash):
    // a second job holding the same dispatch finds it taken.
    this.addSql(`alter table webhook_deliveries add column started_dispatch integer`);
    this.addSql(`alter table webhook_deliveries add column started_job text`);
    this.addSql(`drop index webhook_deliveries_due_idx`);
    this.addSql(
      `create index webhook_deliveries_due_idx on webhook_deliveries (endpoint_id, next_attempt_at) where next_attempt_at is not null`,
    );
    this.addSql(
      `create index webhook_deliveries_leased_idx on webhook_deliveries (endpoint_id) where lease_until is not null`,
    );
    // The claim reads whether an endpoint is failing: two columns, no URL and no secret.
    this.addSql(`create policy relay_access on webhook_endpoints to rm_relay using (true)`);
    this.addSql(`grant select (id, failing_since) on webhook_endpoints to rm_relay`);
    this.addSql(`drop function ${OLD_SIGNATURE}`);
    for (const [file, sha256] of FUNCTION_FILES) this.addSql(functionSql(NAME, file, sha256));
    this.grants(SIGNATURE);
  }

  override down(): void {
    this.addSql(
      functionSql(
        'Migration20261206140000_outbox_metrics',
        'platform/queues/sql/rm_outbox_backlog.sql',
        'af92ed72ea59b391d4faaf1b5e255518903395edb137aac3af106157552510b2',
      ),
    );
    this.addSql(`drop function ${SIGNATURE}`);
    this.addSql(
      functionSql(
        'Migration20261206100000_sql_home',
        'webhooks/sql/rm_relay_claim_deliveries.sql',
        'b9b0713e01050b84837b9dd808c3a9b27334a616c92c420f3a45240364ee6727',
      ),
    );
    this.grants(OLD_SIGNATURE);
    this.addSql(`revoke select (id, failing_since) on webhook_endpoints from rm_relay`);
    this.addSql(`drop policy relay_access on webhook_endpoints`);
    this.addSql(`drop index webhook_deliveries_leased_idx`);
    this.addSql(`drop index webhook_deliveries_due_idx`);
    this.addSql(
      `create index webhook_deliveries_due_idx on webhook_deliveries (next_attempt_at) where next_attempt_at is not null`,
    );
    this.addSql(`alter table webhook_deliveries drop column started_job`);
    this.addSql(`alter table webhook_deliveries drop column started_dispatch`);
  }

  /** Run as its owner rm_relay across orgs; only the worker's role may call it. */
  private grants(fn: string): void {
    this.addSql(`alter function ${fn} owner to rm_relay`);
    this.addSql(`revoke all on function ${fn} from public, rm_app`);
    this.addSql(`grant execute on function ${fn} to rm_worker`);
  }
}
