import { Migration } from '@mikro-orm/migrations';
import { functionSql } from './sql';

const NAME = 'Migration20261207050000_generic_thread_views';
const FILE = 'conversations/sql/rm_thread_views.sql';

/**
 * rm_thread_views always runs its generic plan (issue 17; BENCHMARKS.md, "Plan caching"): for
 * one thread (the thread view, a page, a start) PostgreSQL estimated its custom plan cheaper and
 * re-planned the statement on every call, about 1 ms, unless list calls on the same connection
 * had raised its average custom cost. Same statement, same result.
 */
export const FUNCTION_FILES: [file: string, sha256: string][] = [
  [FILE, 'b8b25d81d8490b2f0954518ecbbc5d4f8e609c3928e5476f601ced430ad6a101'],
];

export class Migration20261207050000_generic_thread_views extends Migration {
  override up(): void {
    for (const [file, sha256] of FUNCTION_FILES) this.addSql(functionSql(NAME, file, sha256));
  }

  override down(): void {
    this.addSql(
      functionSql(
        'Migration20261207000000_one_statement_reads',
        FILE,
        '5597cae16d9fcb28e3fdab1d947f109269da25f6002be52ebd0e90d77147bbe2',
      ),
    );
  }
}
