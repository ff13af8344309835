import { Migration } from '@mikro-orm/migrations';
import { functionSql } from './sql';

const NAME = 'Migration20261207060000_batch_waits_for_relay';
const FILE = 'notifications/sql/rm_process_notification_batch.sql';

/**
 * A notifications job waits for the relay's commit before it locks participant rows (issue 17;
 * BENCHMARKS.md, "Where a send's PostgreSQL time goes now"): the relay adds jobs to Redis inside
 * its transaction, so a job may start while an event's consumer row is not visible yet. Its work
 * then waited on the event's lock (about 4 ms under load) with the participant rows of its whole
 * batch locked, and sends on those threads waited behind it. Same results, one more statement
 * (an index probe an event) a job.
 */
export const FUNCTION_FILES: [file: string, sha256: string][] = [
  [FILE, 'c609dc992c80e06a7811f4ab06a192d736bd1d8a1738c96842ac73c386798638'],
];

export class Migration20261207060000_batch_waits_for_relay extends Migration {
  override up(): void {
    for (const [file, sha256] of FUNCTION_FILES) this.addSql(functionSql(NAME, file, sha256));
  }

  override down(): void {
    this.addSql(
      functionSql(
        'Migration20261207040000_notification_batches',
        FILE,
        'b37d856b742f1c1f8686d494be31010d388a8c027fd82be024fac4d18055a371',
      ),
    );
  }
}
