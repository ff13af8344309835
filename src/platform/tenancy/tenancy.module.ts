import { Global, Module } from '@nestjs/common';
import { Db } from './db.service';
import { TenantRunner } from './tenant-runner.service';

/** The tenant transaction (TenantRunner) and the SQL that runs inside it (Db). */
@Global()
@Module({ providers: [TenantRunner, Db], exports: [TenantRunner, Db] })
export class TenancyModule {}
