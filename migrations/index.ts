import { Migration20261126120000_foundation } from './Migration20261126120000_foundation';

/**
 * Every migration, in order. Listed explicitly so that compiled builds, tests and the CLI all
 * run the same set without globbing the file system.
 */
export const migrationsList = [
  { name: 'Migration20261126120000_foundation', class: Migration20261126120000_foundation },
];
