/**
 * The API and workers refuse to run as a role that could step over the tenant wall: a
 * superuser, a role with BYPASSRLS, or one that owns the tables (owners can disable RLS).
 */
export interface RoleFacts {
  role: string;
  superuser: boolean;
  bypassRls: boolean;
  ownedTables: string[];
}

export const ROLE_FACTS_SQL = `
  select r.rolname as role, r.rolsuper as superuser, r.rolbypassrls as bypass_rls,
         coalesce((select array_agg(c.relname::text order by c.relname) from pg_class c
                   join pg_namespace n on n.oid = c.relnamespace
                   where c.relkind in ('r', 'p') and n.nspname = 'public'
                     and pg_has_role(current_user, c.relowner, 'USAGE')), '{}') as owned_tables
  from pg_roles r where r.rolname = current_user`;

export function unsafeRoleReasons(facts: RoleFacts): string[] {
  const reasons: string[] = [];
  if (facts.superuser) reasons.push('is a superuser');
  if (facts.bypassRls) reasons.push('has BYPASSRLS');
  if (facts.ownedTables.length)
    reasons.push(`owns (or inherits ownership of) tables: ${facts.ownedTables.join(', ')}`);
  return reasons;
}

export class UnsafeRuntimeRoleError extends Error {
  constructor(facts: RoleFacts, reasons: string[]) {
    super(
      `Refusing to start: the runtime database role "${facts.role}" ${reasons.join('; ')}. ` +
        'Connect with DATABASE_APP_URL as the app role (rm_app), which owns nothing and cannot bypass row-level security.',
    );
    this.name = 'UnsafeRuntimeRoleError';
  }
}
