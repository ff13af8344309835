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
import { org, PAGE, SEND, sender, thread, UNREAD, user } from './ceiling-sql';

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
