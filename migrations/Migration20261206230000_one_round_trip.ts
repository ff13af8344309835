import { Migration } from '@mikro-orm/migrations';
import { functionSql } from './sql';

const NAME = 'Migration20261206230000_one_round_trip';

/**
 * Routes that run as one statement (issue 17): rm_api_enter is the tenant entry of such a route
 * (rm_enter_tenant, the trace context, and the member's admission: a refusal raises SQLSTATE
 * RMREF, so the statement rolls back whole), rm_api_send_message the send and rm_api_unread_count
 * the unread count. Both run as the caller (the app role): row-level security
 * applies as in a transaction opened by the service.
 */
export const FUNCTION_FILES: [file: string, sha256: string][] = [
  [
    'members/sql/rm_api_enter.sql',
    'd31b3a054047a11ba835a75b86c3fd061b4b68569229c13100141bac8198e4a0',
  ],
  [
    'conversations/sql/rm_api_send_message.sql',
    '3f47457bf216a8e1154bb6c5fae974e6f694e83d9e2f8c86d5bfb36e1a00465f',
  ],
  [
    'conversations/sql/rm_api_unread_count.sql',
    '920c64eb8574b3e39c842cad8bbe8739c8ffada0786fbc1575cbf4b36795bd9e',
  ],
];

const SIGNATURES = [
  'rm_api_enter(uuid, uuid, text, text, boolean, text[], text)',
  'rm_api_send_message(uuid, uuid, text, text, boolean, text[], text, uuid, text, text, bytea, boolean)',
  'rm_api_unread_count(uuid, uuid, text, text, boolean, text[], text)',
];

export class Migration20261206230000_one_round_trip extends Migration {
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
