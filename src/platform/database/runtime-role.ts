/**
 * The API and workers refuse to run as a role that could step over the tenant wall: a
 * superuser, a role with BYPASSRLS, or one that owns the tables (owners can disable RLS). And
 * each runs with the rights it needs, no more: the relay's cross-org functions are the worker's
 * (rm_worker), never the API's (rm_app).
 */
export interface RoleFacts {
  role: string;
  superuser: boolean;
  bypassRls: boolean;
  ownedTables: string[];
  /** May execute the outbox relay's cross-org functions. */
  runsRelay: boolean;
}

export const ROLE_FACTS_SQL = `
  select r.rolname as role, r.rolsuper as superuser, r.rolbypassrls as bypass_rls,
         coalesce((select array_agg(c.relname::text order by c.relname) from pg_class c
                   join pg_namespace n on n.oid = c.relnamespace
                   where c.relkind in ('r', 'p') and n.nspname = 'public'
                     and pg_has_role(current_user, c.relowner, 'USAGE')), '{}') as owned_tables,
         coalesce(has_function_privilege(current_user,
                    to_regprocedure('public.rm_relay_claim(integer)'), 'execute'), false) as runs_relay
  from pg_roles r where r.rolname = current_user`;

export function unsafeRoleReasons(facts: RoleFacts, process: 'api' | 'worker'): string[] {
  const reasons: string[] = [];
  if (facts.superuser) reasons.push('is a superuser');
  if (facts.bypassRls) reasons.push('has BYPASSRLS');
  if (facts.ownedTables.length)
    reasons.push(`owns (or inherits ownership of) tables: ${facts.ownedTables.join(', ')}`);
  if (process === 'worker' && !facts.runsRelay)
    reasons.push('may not run the outbox relay (the worker connects as rm_worker)');
  if (process === 'api' && facts.runsRelay && !facts.superuser)
    reasons.push(
      'may run the outbox relay, which only the worker needs (the API connects as rm_app)',
    );
  return reasons;
}

export class UnsafeRuntimeRoleError extends Error {
  constructor(facts: RoleFacts, reasons: string[], worker: boolean) {
    super(
      `Refusing to start: the runtime database role "${facts.role}" ${reasons.join('; ')}. ` +
        (worker
          ? 'Where the worker runs, connect with DATABASE_WORKER_URL as the worker role (rm_worker), which owns nothing and cannot bypass row-level security.'
          : 'Connect with DATABASE_APP_URL as the app role (rm_app), which owns nothing and cannot bypass row-level security.'),
    );
    this.name = 'UnsafeRuntimeRoleError';
  }
}
