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
    '3870f31451d28427f0fa4aeedd65ee07c4f6e7d3b4e0db5748e6e4b4465b48dc',
  ],
  [
    'conversations/sql/rm_thread_views.sql',
    '5597cae16d9fcb28e3fdab1d947f109269da25f6002be52ebd0e90d77147bbe2',
  ],
  [
    'conversations/sql/rm_message_page.sql',
    'fbbf95c916cb5ccc09b6e71057aba655a2a19e3965d0126d2af2cefadee3fa80',
  ],
  [
    'conversations/sql/rm_api_message_page.sql',
    '67245382eebd0b2471b8317fc2501341a426b1e19f44481aa6c6b1ddcd3e4f76',
  ],
  [
    'conversations/sql/rm_api_thread_list.sql',
    'c053041bf0ed18c06cca177db4b09205347980577838c44c7677be9b44c11422',
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
