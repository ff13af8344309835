import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Pool } from 'pg';
import { org, PAGE, PAGE_JSON, SEND, sender, thread, UNREAD, user } from './ceiling-sql';

/**
 * The ceiling without a framework (bench/ceiling.ts, `raw`): Node's own http module and a
 * node-postgres pool of named statements, running exactly the minimal floor's SQL, as
 * bench/ceiling-app.ts does through Nest 11 and Fastify. No router, no validation library, no
 * serializer beyond JSON.stringify: what it answers per second is the most any Node.js service
 * can answer on this machine for each operation (with node-postgres, its load generator on the
 * same cores), whatever its framework.
 *
 * With `json`, the thread page is rendered by PostgreSQL (json_agg) and its text written as it
 * comes, as the service renders its read routes: no row parsing, no JSON.stringify in Node.
 *
 *   node dist/bench/ceiling-raw-app.js <postgres url> <port> [json]
 */

const pool = new Pool({ connectionString: process.argv[2], max: 16 });
const pageAsJson = process.argv[4] === 'json';

const PAGE_PATH = /^\/threads\/(\d+)\/messages$/;
const UNREAD_PATH = /^\/users\/(\d+)\/unread-count$/;

function answer(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '';
  let match: RegExpExecArray | null;
  if (req.method === 'GET' && (match = PAGE_PATH.exec(url)) && pageAsJson) {
    const result = await pool.query<{ data: string }>({
      ...PAGE_JSON,
      values: [thread(Number(match[1]))],
    });
    const text = `{"data":${result.rows[0].data}}`;
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
    return;
  }
  if (req.method === 'GET' && (match = PAGE_PATH.exec(url))) {
    const result = await pool.query({ ...PAGE, values: [thread(Number(match[1]))] });
    return answer(res, 200, { data: result.rows });
  }
  if (req.method === 'GET' && (match = UNREAD_PATH.exec(url))) {
    const result = await pool.query({ ...UNREAD, values: [user(Number(match[1]))] });
    return answer(res, 200, result.rows[0]);
  }
  if (req.method === 'POST' && (match = PAGE_PATH.exec(url))) {
    const n = Number(match[1]);
    const { body } = JSON.parse(await readBody(req)) as { body?: unknown };
    // The same rule as the Nest app's validated DTO: a string of 1 to 4,000 characters.
    if (typeof body !== 'string' || body.length < 1 || body.length > 4000)
      return answer(res, 400, { title: 'body must be a string of 1 to 4000 characters' });
    const result = await pool.query({ ...SEND, values: [thread(n), org(n), sender(n), body] });
    return answer(res, 201, result.rows[0]);
  }
  answer(res, 404, { title: 'not found' });
}

const server = createServer((req, res) => {
  handle(req, res).catch((error: unknown) => {
    if (!res.headersSent) answer(res, 500, { title: String(error) });
    else res.destroy();
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.argv[3]), '127.0.0.1');

const stop = () => server.close(() => void pool.end());
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
