import { entities } from '../../src/schema';
import { migrationStatus } from '../../src/platform/database/bootstrap';
import { templateDb, urlFor } from '../support/env';

/**
 * The same check as `npm run migration:check` (and CI), against the migrated template database
 * every test copies: no migration pending, and the entities agree with the migrated schema.
 */
describe('migrations', () => {
  it('leave nothing pending and match the entities', async () => {
    const status = await migrationStatus(urlFor(templateDb()), entities);
    expect(status.pending).toEqual([]);
    expect(status.schemaDrift ? status.driftSql : '').toBe('');
  });
});
