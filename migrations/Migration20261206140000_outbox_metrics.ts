import { Migration } from '@mikro-orm/migrations';
import { functionSql } from './sql';

const NAME = 'Migration20261206140000_outbox_metrics';

/**
 * The outbox backlog for the worker's metrics (docs/operations.md, "Metrics"): rm_outbox_backlog
 * counts pending work across orgs, so like the relay's functions it is owned by rm_relay and
 * executable only by the worker's role (rm_worker); it reads and hands out no id.
 */
export const FUNCTION_FILES: [file: string, sha256: string][] = [
  [
    'platform/queues/sql/rm_outbox_backlog.sql',
    'af92ed72ea59b391d4faaf1b5e255518903395edb137aac3af106157552510b2',
  ],
];

export class Migration20261206140000_outbox_metrics extends Migration {
  override up(): void {
    for (const [file, sha256] of FUNCTION_FILES) this.addSql(functionSql(NAME, file, sha256));
    this.addSql(`alter function rm_outbox_backlog() owner to rm_relay`);
    this.addSql(`revoke all on function rm_outbox_backlog() from public, rm_app`);
    this.addSql(`grant execute on function rm_outbox_backlog() to rm_worker`);
  }

  override down(): void {
    this.addSql(`drop function if exists rm_outbox_backlog()`);
  }
}
