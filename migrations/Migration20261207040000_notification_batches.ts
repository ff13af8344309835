import { Migration } from '@mikro-orm/migrations';
import { functionSql } from './sql';

const NAME = 'Migration20261207040000_notification_batches';

/**
 * A notifications job in one statement (issue 17; BENCHMARKS.md, "The notifications job in one
 * statement"): rm_process_notification_batch enters the org's tenant, locks the participant rows
 * in the order a send does, and runs rm_process_notifications for each event, in one implicit
 * transaction: one round trip a job instead of four and one more an event. Runs as the worker
 * (the app role's rights): row-level security applies as in the transaction it replaces.
 */
export const FUNCTION_FILES: [file: string, sha256: string][] = [
  [
    'notifications/sql/rm_process_notification_batch.sql',
    'b37d856b742f1c1f8686d494be31010d388a8c027fd82be024fac4d18055a371',
  ],
];

const SIGNATURE = 'rm_process_notification_batch(uuid, uuid[], text[])';

export class Migration20261207040000_notification_batches extends Migration {
  override up(): void {
    for (const [file, sha256] of FUNCTION_FILES) this.addSql(functionSql(NAME, file, sha256));
    this.addSql(`revoke all on function ${SIGNATURE} from public`);
    this.addSql(`grant execute on function ${SIGNATURE} to rm_app`);
  }

  override down(): void {
    this.addSql(`drop function ${SIGNATURE}`);
  }
}
