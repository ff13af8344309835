import { Migration } from '@mikro-orm/migrations';
import { functionSql } from './sql';

const NAME = 'Migration20261207000000_one_statement_reads';

/**
 * The hot reads as one statement each (issue 17): the thread view, the message page and the
 * thread list enter the tenant (rm_api_enter) and read in one function, one round trip, one
 * implicit transaction. Their rows come back as JSON built by PostgreSQL: rm_thread_rows is the
 * one rendering of a thread row (the list, one thread, the view), rm_message_page the one query of
 * a page of messages. All run as the caller (the app role): row-level security applies as in a
 * transaction opened by the service.
 */
export const FUNCTION_FILES: [file: string, sha256: string][] = [
  [
    'conversations/sql/rm_thread_rows.sql',
    '175492e560840ca31c7798afc458ce48b0cd43cc26b87b923b9eae6d3b734954',
  ],
  [
    'conversations/sql/rm_message_page.sql',
    '94c2be20a8c41b9766a088eda3d9d911798706bd070d5d5cafbbfc5dc009d67a',
  ],
  [
    'conversations/sql/rm_api_thread_view.sql',
    'c795082fd3625aed4a79c6f7f8aa931fd36bda644c8ecb4a808822eec54a2264',
  ],
  [
    'conversations/sql/rm_api_message_page.sql',
    'd1635f5e5161abab1c2f4f72800bfe61d53ef291f11f1755550ec23d93259f4b',
  ],
  [
    'conversations/sql/rm_api_thread_list.sql',
    '17055f16659445cb196d9c1064e1038b18e3bb8055fe91b59bb1b1ad97863cb2',
  ],
];

const ENTRY = 'uuid, uuid, text, text, boolean, text[], text';

const SIGNATURES = [
  'rm_thread_rows(uuid, uuid[])',
  'rm_message_page(uuid, uuid, uuid, boolean, integer, integer, integer)',
  `rm_api_thread_view(${ENTRY}, uuid, integer)`,
  `rm_api_message_page(${ENTRY}, uuid, uuid, uuid, integer)`,
  `rm_api_thread_list(${ENTRY}, timestamptz, uuid, integer)`,
];

export class Migration20261207000000_one_statement_reads extends Migration {
  override up(): void {
    for (const [file, sha256] of FUNCTION_FILES) this.addSql(functionSql(NAME, file, sha256));
    for (const fn of SIGNATURES) {
      this.addSql(`revoke all on function ${fn} from public`);
      this.addSql(`grant execute on function ${fn} to rm_app`);
    }
  }

  override down(): void {
    for (const fn of [...SIGNATURES].reverse()) this.addSql(`drop function ${fn}`);
  }
}
