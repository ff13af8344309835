import { Migration } from '@mikro-orm/migrations';
import { functionSql } from './sql';

const NAME = 'Migration20261206100000_sql_home';

/**
 * Every rm_* function, applied from the one file that holds its current definition
 * (src/<module>/sql/<function>.sql; test/foundation/sql-functions.test.ts compares each live
 * function with its file). Earlier migrations keep the text they applied, inline or frozen beside
 * them. When a later migration changes one of these functions, the text this one applied is
 * frozen beside it (migrations/sql/Migration20261206100000_sql_home/) and read from there.
 *
 * With the security review (issue 12): rm_set_block takes the blocker's role (hidden and
 * deactivated members answer like unknown ids), rm_delete_message takes the text out of webhook
 * deliveries, rm_search_fold serves the accent-insensitive directory search, and the relay's
 * cross-org functions may be executed by the worker's role only.
 */
export const FUNCTION_FILES: [file: string, sha256: string][] = [
  [
    'platform/database/sql/rm_uuid_v7_at.sql',
    'c711e07c474073cb53d1c4fa2e6284e09b68738e59f7a0350ad6c55bd72a74c2',
  ],
  [
    'platform/database/sql/rm_uuid_v7.sql',
    '89055e3988b3951890960613bcee26f06035948a77d44f8140b0922b7a40a1fa',
  ],
  [
    'members/sql/rm_enter_tenant.sql',
    'a44f973fd7f0ac5df80534c1e80c626471c1c9458892eb2e3034c5c23fdf7ed7',
  ],
  [
    'members/sql/rm_search_fold.sql',
    'f927d352dab007e7e20a16c0a96adf8b12d2d14a60d5f52e3905f8094ce8b9ec',
  ],
  [
    'notifications/sql/rm_after_read.sql',
    '60473f840055d137e3c939d23f130082112ed4c54e4e32566390a24a3c5d86d9',
  ],
  [
    'conversations/sql/rm_refresh_participant.sql',
    'be4f6fb4e99d010e6cc2290276e983273f3870e534192ec3a069d327d3d41ce0',
  ],
  [
    'conversations/sql/rm_start_thread.sql',
    'eb3cd339c2c13c9e24d194a96df84639bb2fa8079b67fa0b121bdba74cc3dec4',
  ],
  [
    'conversations/sql/rm_send_message.sql',
    'ebd66c4725d1d798145363f672301204a3a2d0f9531391bb8c5619386a6d6646',
  ],
  [
    'conversations/sql/rm_mark_read.sql',
    '2e9574e3fe1460c32f3aa37830a95b79ae3778f78e3bb212198abf5142b36770',
  ],
  [
    'webhooks/sql/rm_payload_without_body.sql',
    'e3c6f6b35cbbfb2cdc0560f2d79c9f02e9d5e0234b6b9a406b60705db0a06962',
  ],
  [
    'conversations/sql/rm_delete_message.sql',
    'e9ad4ab3c438762dd75d43ce6794c61a85698e521642f79768c919cfe318e2ca',
  ],
  [
    'blocks/sql/rm_set_block.sql',
    'c8c33f47ff0e230b7a1d9a70098bc014f946fd3450c3b837efc3e25a24f6006f',
  ],
  [
    'notifications/sql/rm_process_notifications.sql',
    'b9ed26c10ff608c3c7c6b0edde88b1be068af0b231d2fa74a87433324c6172e2',
  ],
  [
    'platform/queues/sql/rm_record_consumer_failure.sql',
    '9176ccc3796c9fdf892398f79d383c64e4967d4779f24810096d54efb9c2e3f7',
  ],
  [
    'platform/queues/sql/rm_relay_claim.sql',
    'ac2d0f0bf40464c25e473bae52cd8f0b4e18a6f42af93e15a1e65a4ebfb7f579',
  ],
  [
    'platform/queues/sql/rm_relay_due.sql',
    '9f86ebf157cf24b0b2d67d56585f28f6cf1aefe8bfdd5baae65efd029e52cfbe',
  ],
  [
    'platform/queues/sql/rm_relay_prune.sql',
    'fbea265c06d07c92b38d4e685df18f6efe6dfd690bc2f214401c368699efcfed',
  ],
  [
    'platform/queues/sql/rm_relay_expedite.sql',
    'a2ee5cca2148eecdafa8883a07f70e5960cb14ff1754b600d60f5f437d88cdce',
  ],
  [
    'webhooks/sql/rm_relay_claim_deliveries.sql',
    'b9b0713e01050b84837b9dd808c3a9b27334a616c92c420f3a45240364ee6727',
  ],
  [
    'webhooks/sql/rm_refresh_webhook_routes.sql',
    'ec25ae3eaa9cab3068fc75ed5195e996039165722fe2c6c73ec752ed28a8f1d2',
  ],
];

/** Run as their owner rm_relay across orgs; only the worker's role may call them. */
const RELAY_FUNCTIONS = [
  'rm_relay_claim(integer)',
  'rm_relay_due(integer, interval)',
  'rm_relay_prune(interval)',
  'rm_relay_expedite()',
  'rm_relay_claim_deliveries(integer, interval)',
];

const APP_FUNCTIONS = [
  'rm_uuid_v7()',
  'rm_uuid_v7_at(timestamptz)',
  'rm_enter_tenant(uuid, uuid, text, text, boolean)',
  'rm_search_fold(text)',
  'rm_after_read(uuid, uuid)',
  'rm_refresh_participant(uuid, uuid)',
  'rm_start_thread(uuid, text, uuid)',
  'rm_send_message(uuid, uuid, text, text, bytea, boolean)',
  'rm_mark_read(uuid, uuid, uuid)',
  'rm_payload_without_body(text)',
  'rm_delete_message(uuid, uuid, uuid)',
  'rm_set_block(uuid, uuid, boolean, text)',
  'rm_process_notifications(uuid)',
  'rm_record_consumer_failure(uuid, text, text, interval, boolean)',
  'rm_refresh_webhook_routes()',
];

export class Migration20261206100000_sql_home extends Migration {
  override up(): void {
    // Signatures that changed: rm_set_block takes the blocker's role; rm_start_thread and
    // rm_send_message make their ids themselves (rm_uuid_v7) and no longer take one.
    this.addSql(`drop function if exists rm_set_block(uuid, uuid, boolean)`);
    this.addSql(`drop function if exists rm_start_thread(uuid, uuid, text, uuid)`);
    this.addSql(
      `drop function if exists rm_send_message(uuid, uuid, uuid, text, text, bytea, boolean)`,
    );
    for (const [file, sha256] of FUNCTION_FILES) this.addSql(functionSql(NAME, file, sha256));
    for (const fn of RELAY_FUNCTIONS) {
      this.addSql(`alter function ${fn} owner to rm_relay`);
      this.addSql(`revoke all on function ${fn} from public, rm_app`);
      this.addSql(`grant execute on function ${fn} to rm_worker`);
    }
    for (const fn of APP_FUNCTIONS) {
      this.addSql(`revoke all on function ${fn} from public`);
      this.addSql(`grant execute on function ${fn} to rm_app`);
    }
    // Deliveries of messages deleted before this migration lose the text they still carried.
    this.addSql(`
      update webhook_deliveries d set payload = rm_payload_without_body(d.payload), body_message_id = null
        from messages m
       where m.id = d.body_message_id and m.deleted_at is not null`);
  }

  override down(): void {
    for (const fn of RELAY_FUNCTIONS) this.addSql(`grant execute on function ${fn} to rm_app`);
    this.addSql(`drop function if exists rm_set_block(uuid, uuid, boolean, text)`);
    this.addSql(`drop function if exists rm_payload_without_body(text)`);
    this.addSql(`drop function if exists rm_search_fold(text)`);
  }
}
