import { Migration } from '@mikro-orm/migrations';
import { functionSql } from './sql';

const NAME = 'Migration20261207030000_flat_tenant_entry';

/**
 * The one-statement routes' tenant entry without nested queries (issue 17; BENCHMARKS.md, "The
 * tenant entry"): rm_api_enter returns the membership row, which a route assigns
 * (m := rm_api_enter(…), evaluated by PL/pgSQL without running a query, where
 * `select * into m from rm_api_enter(…)` ran one), sets the transaction's settings by assignment,
 * and reads the membership itself, calling rm_enter_tenant only for a first request or changed
 * claims. Same settings, rules, refusals and results. Its return type changes, so it is dropped
 * and created again, with its grants.
 */
export const FUNCTION_FILES: [file: string, sha256: string][] = [
  [
    'members/sql/rm_api_enter.sql',
    'cccfb3d2ca38b9431abccaf0b3e09b0d7efd1efe213b373464e5ce202596710f',
  ],
  [
    'conversations/sql/rm_api_send_message.sql',
    '81638c6bbf20b158810a52609e3613445ce75270e1d6f7d0097a65b3e465a8d1',
  ],
  [
    'conversations/sql/rm_api_unread_count.sql',
    'b369cc35994555b498cef49d3579f6dafd66d69d69dffedbb8bda656586842d3',
  ],
  [
    'conversations/sql/rm_api_message_page.sql',
    'fdf66d550f560903edbaee5aea5bbbe0aa7970145fd28fe807dffdd523208fa6',
  ],
  [
    'conversations/sql/rm_api_thread_list.sql',
    '6753c1dbb62bf2f10cf6afb27b79d16b64ba173a2f085681631fd6df652e021e',
  ],
];

/** What each function was before this migration: its migration and checksum. */
const PREVIOUS: [file: string, migration: string, sha256: string][] = [
  [
    'members/sql/rm_api_enter.sql',
    'Migration20261206230000_one_round_trip',
    'd31b3a054047a11ba835a75b86c3fd061b4b68569229c13100141bac8198e4a0',
  ],
  [
    'conversations/sql/rm_api_send_message.sql',
    'Migration20261206230000_one_round_trip',
    '3f47457bf216a8e1154bb6c5fae974e6f694e83d9e2f8c86d5bfb36e1a00465f',
  ],
  [
    'conversations/sql/rm_api_unread_count.sql',
    'Migration20261206230000_one_round_trip',
    '920c64eb8574b3e39c842cad8bbe8739c8ffada0786fbc1575cbf4b36795bd9e',
  ],
  [
    'conversations/sql/rm_api_message_page.sql',
    'Migration20261207000000_one_statement_reads',
    '67245382eebd0b2471b8317fc2501341a426b1e19f44481aa6c6b1ddcd3e4f76',
  ],
  [
    'conversations/sql/rm_api_thread_list.sql',
    'Migration20261207000000_one_statement_reads',
    'c053041bf0ed18c06cca177db4b09205347980577838c44c7677be9b44c11422',
  ],
];

const ENTER = 'rm_api_enter(uuid, uuid, text, text, boolean, text[], text)';

export class Migration20261207030000_flat_tenant_entry extends Migration {
  override up(): void {
    this.addSql(`drop function ${ENTER}`);
    for (const [file, sha256] of FUNCTION_FILES) this.addSql(functionSql(NAME, file, sha256));
    this.grantEnter();
  }

  override down(): void {
    this.addSql(`drop function ${ENTER}`);
    for (const [file, migration, sha256] of PREVIOUS) {
      this.addSql(functionSql(migration, file, sha256));
    }
    this.grantEnter();
  }

  private grantEnter(): void {
    this.addSql(`revoke all on function ${ENTER} from public`);
    this.addSql(`grant execute on function ${ENTER} to rm_app`);
  }
}
