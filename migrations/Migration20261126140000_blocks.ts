import { Migration } from '@mikro-orm/migrations';

/**
 * Block and unblock (AC-3). A block changes what the blocker sees of the thread with the blocked
 * member, so the function takes that thread's row lock first (the lock every send takes): a send
 * either commits before the block (then the block hides it) or after (then it is withheld).
 */
export class Migration20261126140000_blocks extends Migration {
  override up(): void {
    this.addSql(`
      create index user_blocks_blocked_idx on user_blocks (org_id, blocked_id, blocker_id)`);
    this.addSql(`
      create or replace function rm_set_block(p_blocker uuid, p_blocked uuid, p_on boolean)
      returns table (status text, created_at timestamptz) language plpgsql as $$
      declare
        v_org uuid := nullif(current_setting('app.org_id', true), '')::uuid;
        v_thread uuid;
        v_created timestamptz;
      begin
        perform 1 from memberships m where m.org_id = v_org and m.user_id = p_blocked;
        if not found then
          return query select 'not-found'::text, null::timestamptz;
          return;
        end if;
        if p_on then
          insert into user_blocks (org_id, blocker_id, blocked_id) values (v_org, p_blocker, p_blocked)
            on conflict do nothing returning user_blocks.created_at into v_created;
          if v_created is null then
            select b.created_at into v_created from user_blocks b
              where b.org_id = v_org and b.blocker_id = p_blocker and b.blocked_id = p_blocked;
            return query select 'existing'::text, v_created;
            return;
          end if;
        else
          delete from user_blocks b
            where b.org_id = v_org and b.blocker_id = p_blocker and b.blocked_id = p_blocked
            returning b.created_at into v_created;
          if v_created is null then
            return query select 'absent'::text, null::timestamptz;
            return;
          end if;
        end if;

        select t.id into v_thread from message_threads t
          where t.org_id = v_org and t.user_low = least(p_blocker, p_blocked)
            and t.user_high = greatest(p_blocker, p_blocked)
          for no key update;
        if found then
          update thread_participants tp set blocks_other = p_on
            where tp.thread_id = v_thread and tp.user_id = p_blocker;
          perform rm_refresh_participant(v_thread, p_blocker);
        end if;
        return query select case when p_on then 'created' else 'removed' end, v_created;
      end $$`);
    this.addSql(`grant execute on function rm_set_block(uuid, uuid, boolean) to rm_app`);
  }

  override down(): void {
    this.addSql(`drop function if exists rm_set_block(uuid, uuid, boolean)`);
    this.addSql(`drop index if exists user_blocks_blocked_idx`);
  }
}
