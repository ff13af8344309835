/**
 * `npm start`'s web step: builds the web app (web/ on the typed client) when web/dist is missing
 * or older than its sources, so that /app serves what the checkout holds. Skipped where there is
 * no web/ (the production image) or when WEB_APP_ENABLED=false.
 */
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = process.cwd();
const SOURCES = ['web/src', 'web/index.html', 'web/vite.config.ts', 'clients/typescript/src'];

function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

function main(): void {
  if (process.env.WEB_APP_ENABLED === 'false' || !existsSync(join(ROOT, 'web', 'package.json'))) {
    return;
  }
  const built = join(ROOT, 'web', 'dist', 'index.html');
  const sources = Math.max(...SOURCES.map((p) => newest(join(ROOT, p))));
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  console.log('Building the web app (web/) for /app …');
  execSync('npm run -s web:build', { stdio: 'inherit', cwd: ROOT });
}

main();
