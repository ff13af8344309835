import 'reflect-metadata';
import {
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  Injectable,
  Module,
  Param,
  ParseIntPipe,
  Post,
  ValidationPipe,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { Pool } from 'pg';

/**
 * The framework ceiling's service (bench/ceiling.ts): Nest 11 on Fastify with a validated body and
 * a node-postgres pool of named statements, as the service is built, running exactly the minimal
 * floor's SQL (../shared/floor: page.sql, unread.sql, send.sql) against the floor's plain schema,
 * and nothing else: no authentication, tenancy, rate limit, logging, metrics, outbox consumers or
 * JSON rendering in the database. What it answers per second is the most any service of this
 * stack can answer on this machine for each operation, its load generator on the same cores.
 *
 *   node dist/bench/ceiling-app.js <postgres url> <port>
 */

const thread = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const org = (n: number) =>
  `00000000-0000-4000-a000-${String(((n - 1) % 10) + 1).padStart(12, '0')}`;
const sender = (n: number) =>
  `00000000-0000-4000-9000-${String(((n - 1) % 10) * 100 + (Math.floor((n - 1) / 10) % 100) + 1).padStart(12, '0')}`;
const user = (n: number) => `00000000-0000-4000-9000-${String(n).padStart(12, '0')}`;

const PAGE = {
  name: 'ceiling_page',
  text: `SELECT id, sender_id, body, created_at FROM messages
          WHERE thread_id = $1 AND deleted_at IS NULL ORDER BY created_at DESC LIMIT 50`,
};
const UNREAD = {
  name: 'ceiling_unread',
  text: `SELECT count(*)::int AS total FROM thread_participants tp
           JOIN messages m ON m.thread_id = tp.thread_id
            AND m.created_at > coalesce(tp.last_read_at, '-infinity'::timestamptz)
            AND m.sender_id <> tp.user_id AND m.deleted_at IS NULL
          WHERE tp.user_id = $1`,
};
/** send.sql's transaction (insert, bump, outbox row) as one statement: one round trip. */
const SEND = {
  name: 'ceiling_send',
  text: `WITH m AS (
           INSERT INTO messages (id, thread_id, org_id, sender_id, body, created_at)
           VALUES (gen_random_uuid(), $1, $2, $3, $4, now()) RETURNING id, created_at
         ), t AS (
           UPDATE message_threads SET last_message_at = now() WHERE id = $1
         ), o AS (
           INSERT INTO notification_outbox (id, org_id, event_type, payload)
           VALUES (gen_random_uuid(), $2, 'message.created',
                   jsonb_build_object('threadId', $1::text, 'senderId', $3::text))
         )
         SELECT id, created_at FROM m`,
};

class SendDto {
  @IsString()
  @MinLength(1)
  @MaxLength(4000)
  body!: string;
}

@Injectable()
class Db implements OnApplicationShutdown {
  readonly pool = new Pool({ connectionString: process.argv[2], max: 16 });
  onApplicationShutdown() {
    return this.pool.end();
  }
}

@Controller()
class CeilingController {
  constructor(@Inject(Db) private readonly db: Db) {}

  @Get('threads/:n/messages')
  async page(@Param('n', ParseIntPipe) n: number) {
    const result = await this.db.pool.query({ ...PAGE, values: [thread(n)] });
    return { data: result.rows };
  }

  @Get('users/:u/unread-count')
  async unread(@Param('u', ParseIntPipe) u: number) {
    const result = await this.db.pool.query({ ...UNREAD, values: [user(u)] });
    return result.rows[0];
  }

  @Post('threads/:n/messages')
  @HttpCode(201)
  async send(@Param('n', ParseIntPipe) n: number, @Body() dto: SendDto) {
    const result = await this.db.pool.query({
      ...SEND,
      values: [thread(n), org(n), sender(n), dto.body],
    });
    return result.rows[0];
  }
}

@Module({ controllers: [CeilingController], providers: [Db] })
class CeilingModule {}

async function main() {
  const app = await NestFactory.create<NestFastifyApplication>(
    CeilingModule,
    new FastifyAdapter(),
    {
      logger: ['error', 'warn'],
    },
  );
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true }));
  app.enableShutdownHooks();
  await app.listen(Number(process.argv[3]), '127.0.0.1');
}

void main();
