-- POST /messages/threads/:id/messages in one statement (issue 17): the tenant entry
-- (rm_api_enter), then rm_send_message. Run outside BEGIN, it is one implicit transaction, so the
-- thread and participant locks are held only while PostgreSQL works, never across a round trip.
-- Returns the member with the send's result. A send that is refused (key-conflict, in-progress,
-- not-found, blocked-by-you, recipient-inactive) raises SQLSTATE RMREF with the status as its
-- message: the statement rolls back whole (the tenant entry's claim refresh too), as a refused
-- request did in a transaction of its own.
create or replace function rm_api_send_message(
  p_org uuid, p_user uuid, p_name text, p_role text, p_jit boolean, p_roles text[], p_traceparent text,
  p_thread uuid, p_body text, p_client_id text, p_hash bytea, p_first boolean
)
returns table (user_id uuid, display_name text, role text, visibility text, read_receipts boolean, receipts_since timestamptz, active boolean, created_at timestamptz, updated_at timestamptz, status text, message_id uuid, seq integer, sent_at timestamptz)
language plpgsql as $$
declare
  m record;
  s record;
begin
  select * into m from rm_api_enter(p_org, p_user, p_name, p_role, p_jit, p_roles, p_traceparent);
  select * into s from rm_send_message(p_thread, p_user, p_body, p_client_id, p_hash, p_first) r;
  if s.status not in ('created', 'repeat') then
    raise exception using errcode = 'RMREF', message = s.status;
  end if;
  return query select m.user_id, m.display_name, m.role, m.visibility, m.read_receipts,
                      m.receipts_since, m.active, m.created_at, m.updated_at,
                      s.status, s.message_id, s.seq, s.created_at;
end $$;
