import { Global, Injectable, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { Db } from './db.service';
import { PgPool } from './pg-pool';
import {
  ROLE_FACTS_SQL,
  UnsafeRuntimeRoleError,
  unsafeRoleReasons,
  type RoleFacts,
} from './runtime-role';
import { TenantRunner } from '../tenancy/tenant-runner.service';

/** Refuses to start when the runtime role could bypass the tenant wall. */
@Injectable()
export class RuntimeRoleCheck implements OnApplicationBootstrap {
  constructor(private readonly pg: PgPool) {}

  async onApplicationBootstrap(): Promise<void> {
    const rows = await this.pg.query<{
      role: string;
      superuser: boolean;
      bypass_rls: boolean;
      owned_tables: string[];
    }>({ sql: ROLE_FACTS_SQL, params: [] });
    const row = rows[0];
    const facts: RoleFacts = {
      role: row.role,
      superuser: row.superuser,
      bypassRls: row.bypass_rls,
      ownedTables: row.owned_tables,
    };
    const reasons = unsafeRoleReasons(facts);
    if (reasons.length) throw new UnsafeRuntimeRoleError(facts, reasons);
  }
}

@Global()
@Module({
  providers: [PgPool, Db, TenantRunner, RuntimeRoleCheck],
  exports: [PgPool, Db, TenantRunner],
})
export class DatabaseModule {}
