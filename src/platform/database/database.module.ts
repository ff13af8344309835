import {
  Global,
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { DATABASE_RUNTIME, PgPool, type DatabaseRuntime } from './pg-pool';
import {
  ROLE_FACTS_SQL,
  UnsafeRuntimeRoleError,
  unsafeRoleReasons,
  type RoleFacts,
} from './runtime-role';

/**
 * Refuses to start when the runtime role could bypass the tenant wall, and when it does not fit
 * the process: a worker's role must be able to run the relay's cross-org functions, an API-only
 * process's role must not (least privilege: the API never hands out other orgs' ids).
 */
@Injectable()
export class RuntimeRoleCheck implements OnApplicationBootstrap {
  constructor(
    private readonly pg: PgPool,
    @Inject(DATABASE_RUNTIME) private readonly runtime: DatabaseRuntime,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const rows = await this.pg.query<{
      role: string;
      superuser: boolean;
      bypass_rls: boolean;
      owned_tables: string[];
      runs_relay: boolean;
    }>({ sql: ROLE_FACTS_SQL, params: [] });
    const row = rows[0];
    const facts: RoleFacts = {
      role: row.role,
      superuser: row.superuser,
      bypassRls: row.bypass_rls,
      ownedTables: row.owned_tables,
      runsRelay: row.runs_relay,
    };
    const reasons = unsafeRoleReasons(facts, this.runtime.worker ? 'worker' : 'api');
    if (reasons.length) throw new UnsafeRuntimeRoleError(facts, reasons, this.runtime.worker);
  }
}

@Global()
@Module({})
export class DatabaseModule {
  /** `runtime`: the connection of this process (the worker's role where the worker runs). */
  static forRoot(runtime: DatabaseRuntime): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [{ provide: DATABASE_RUNTIME, useValue: runtime }, PgPool, RuntimeRoleCheck],
      exports: [PgPool, DATABASE_RUNTIME],
    };
  }
}
