import { SetMetadata } from '@nestjs/common';

export const USES_ORM = 'rm:usesOrm';

/**
 * The handler works with MikroORM entities (TenantContext.em()): its tenant transaction is opened
 * through the ORM. Everything else runs on a raw pooled connection with prepared statements.
 */
export const UsesOrm = () => SetMetadata(USES_ORM, true);
