-- Rebuilds the current org's routing rows (org, event type) from its enabled endpoints: the relay
-- creates a webhooks consumer only for events an endpoint subscribes to.
create or replace function rm_refresh_webhook_routes()
returns void
language sql as $$
delete from webhook_routes where org_id = nullif(current_setting('app.org_id', true), '')::uuid;
insert into webhook_routes (org_id, event_type)
select distinct e.org_id, unnest(e.events) from webhook_endpoints e
 where e.org_id = nullif(current_setting('app.org_id', true), '')::uuid and e.enabled;
$$;
