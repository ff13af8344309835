import { Global, Inject, Injectable, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { Db } from './db.service';
import {
  ROLE_FACTS_SQL,
  UnsafeRuntimeRoleError,
  unsafeRoleReasons,
  type RoleFacts,
} from './runtime-role';
import { TenantRunner } from '../tenancy/tenant-runner.service';
import { APP_CONFIG } from '../../config/config.module';
import type { AppConfig } from '../../config/app-config';

/** Refuses to start when the runtime role could bypass the tenant wall. */
@Injectable()
export class RuntimeRoleCheck implements OnApplicationBootstrap {
  constructor(
    private readonly orm: MikroORM,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const rows = await this.orm.em
      .getConnection()
      .execute<{ role: string; superuser: boolean; bypass_rls: boolean; owned_tables: string[] }[]>(
        ROLE_FACTS_SQL,
      );
    const row = rows[0];
    const facts: RoleFacts = {
      role: row.role,
      superuser: row.superuser,
      bypassRls: row.bypass_rls,
      ownedTables: row.owned_tables,
    };
    const reasons = unsafeRoleReasons(facts);
    if (reasons.length) throw new UnsafeRuntimeRoleError(facts, reasons);
    void this.config;
  }
}

@Global()
@Module({
  providers: [Db, TenantRunner, RuntimeRoleCheck],
  exports: [Db, TenantRunner],
})
export class DatabaseModule {}
