import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

/** src/schema.ts is what `npm run client:generate` makes of openapi.json, to the byte. */
describe('generated types', () => {
  it('are fresh against openapi.json (else: npm run openapi && npm run client:generate)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rm-client-'));
    try {
      const out = join(dir, 'schema.ts');
      execFileSync(
        join(ROOT, 'node_modules', '.bin', 'openapi-typescript'),
        [join(ROOT, 'openapi.json'), '-o', out],
        { stdio: 'pipe' },
      );
      const committed = readFileSync(
        join(ROOT, 'clients', 'typescript', 'src', 'schema.ts'),
        'utf8',
      );
      expect(committed === readFileSync(out, 'utf8')).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
