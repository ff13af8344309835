import { dropDatabase } from '../../src/platform/database/bootstrap';
import { urlFor } from './env';

export default async function globalTeardown(): Promise<void> {
  const template = `rm_tpl_${process.pid}`;
  await dropDatabase(urlFor(template), template);
}
