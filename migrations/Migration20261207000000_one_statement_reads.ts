import { Migration } from '@mikro-orm/migrations';
import { functionSql } from './sql';

const NAME = 'Migration20261207000000_one_statement_reads';

/**
 * The hot reads as one statement each (issue 17): the thread view, the message page and the
 * thread list enter the tenant (rm_api_enter) and read in one function, one round trip, one
 * implicit transaction, and answer the response body as PostgreSQL renders it. Messages and
 * threads are rendered in one place each: rm_message_view (a message as its viewer sees it:
 * tombstones, receipts) and rm_thread_views (threads as their participant sees them), used by
 * these routes and by the service's other paths (a thread's start, a send's repeat, the event
 * streams); rm_message_page is the one page query; rm_iso writes times as the API does. All run
 * as the caller (the app role): row-level security applies as in a transaction opened by the
 * service.
 */
export const FUNCTION_FILES: [file: string, sha256: string][] = [
  [
    'platform/database/sql/rm_iso.sql',
    '64655e9a7c992dcd9c5927f272321988ef4c73eb2719a9456e9cab2bf62775bd',
  ],
  [
    'conversations/sql/rm_message_view.sql',
    'ec6ab9887b775d5a7eedc7b09cd1a2bcb1a6d33ffd368d89317e797e8a4ed055',
  ],
  [
    'conversations/sql/rm_thread_views.sql',
    'f7b720440dca211b1a7102f63aac5c9adbdc9e560825c31757c2c0b7b844de71',
  ],
  [
    'conversations/sql/rm_message_page.sql',
    'dc3db0043f69505d7578c600173bd790fb1553277eddacc6971510ef0f0a2e5d',
  ],
  [
    'conversations/sql/rm_api_message_page.sql',
    'e6b524d413d14686393a7853967324f59279c97561256e8693cfb18502c44ef4',
  ],
  [
    'conversations/sql/rm_api_thread_list.sql',
    '9fd7cd73516db9c789950ea45d3007aeff543dfecc2952b4d86013fb42c2f95b',
  ],
];

const ENTRY = 'uuid, uuid, text, text, boolean, text[], text';

const PARTY = 'uuid, text, text, boolean, timestamptz';

const SIGNATURES = [
  'rm_iso(timestamptz)',
  `rm_message_view(uuid, uuid, integer, uuid, text, text, timestamptz, timestamptz, timestamptz, ${PARTY}, ${PARTY})`,
  `rm_thread_views(${PARTY}, uuid[])`,
  `rm_message_page(uuid, ${PARTY}, ${PARTY}, boolean, integer, integer, integer)`,
  `rm_api_message_page(${ENTRY}, uuid, uuid, uuid, integer, boolean)`,
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
