import { Controller, Get, Headers, Inject, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExtension, ApiExtraModels, ApiHeader, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { TicketAuth } from '../platform/auth/decorators';
import type { Principal } from '../platform/auth/principal';
import { ApiMemberRoute } from '../platform/http/api-docs';
import { Endpoint } from '../platform/http/endpoint';
import { Problems } from '../platform/http/problem';
import { CurrentTenant } from '../platform/tenancy/current-tenant.decorator';
import type { Tenant } from '../platform/tenancy/tenant-context';
import { TenantRunner } from '../platform/tenancy/tenant-runner.service';
import { EVENT_SCHEMAS, EventsQuery, EventTicketResponse } from './dto/events.dto';
import { EventProblems as P } from './events.problems';
import { EventsRepository } from './events.repository';
import { StreamHub } from './stream-hub.service';
import { STREAM_TICKETS, type StreamTickets } from '../platform/auth/stream-tickets';

const EVENT_LIST = Object.entries(EVENT_SCHEMAS)
  .map(([name, schema]) => `- \`${name}\`: ${schema.name}`)
  .join('\n');

@ApiTags('events')
@ApiMemberRoute()
@Controller('events')
export class EventsController {
  constructor(
    private readonly hub: StreamHub,
    private readonly tenants: TenantRunner,
    private readonly repo: EventsRepository,
    @Inject(STREAM_TICKETS) private readonly tickets: StreamTickets,
  ) {}

  @Post('tickets')
  @Endpoint({
    operation: 'createEventTicket',
    summary: 'A ticket to open my event stream from a browser',
    description:
      'Browsers’ EventSource cannot send an Authorization header: open the stream with `GET /api/v1/events?ticket=<ticket>` instead. A ticket is bound to you, opens one stream, and is valid for 60 s (EVENTS_TICKET_TTL_SECONDS). Tokens never go in URLs.',
    responses: { 201: { type: EventTicketResponse, description: 'A single-use ticket.' } },
    body: false,
  })
  ticket(@CurrentTenant() tenant: Tenant): EventTicketResponse {
    const { ticket, expiresAt } = this.tickets.issue(tenant.orgId, tenant.userId);
    return { ticket, expiresAt: expiresAt.toISOString() };
  }

  @Get()
  @TicketAuth()
  @ApiExtraModels(...Object.values(EVENT_SCHEMAS))
  @ApiExtension(
    'x-events',
    Object.fromEntries(
      Object.entries(EVENT_SCHEMAS).map(([name, schema]) => [
        name,
        { $ref: getSchemaPath(schema) },
      ]),
    ),
  )
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description:
      'Resume after this event id (browsers send it when they reconnect): every event you may see after it, from PostgreSQL (at least 24 h back), then live ones. An unknown or too old id answers with a `reset` event first: refetch, then go on.',
  })
  @Endpoint({
    ownTransactions: true,
    operation: 'streamEvents',
    summary: 'My event stream (Server-Sent Events)',
    description: `What concerns you as it happens, so that nothing has to poll (SPEC §4a). \`Authorization: Bearer <token>\`, or \`?ticket=\` for EventSource. Each event has an \`id\` (opaque, increasing: pass it back as Last-Event-ID), an \`event\` name and one line of JSON \`data\`; the schema of each event's data is in \`x-events\`:\n\n${EVENT_LIST}\n\nThe stream opens with \`unread.changed\` (your count now; its id is where a reconnect resumes). A comment line \`: ping\` comes at least every 25 s. Delivery is at least once: dedupe by message id. At most 5 streams per member (a 6th closes the oldest); a stream that cannot keep up is closed (reconnect with Last-Event-ID); on shutdown the server sends \`retry:\` and closes.`,
    responses: {
      200: {
        description: 'The event stream (`text/event-stream`), open until either side closes it.',
        content: {
          'text/event-stream': {
            schema: { type: 'string' },
            example:
              'id: 3f9a1c2e.41\nevent: message.created\ndata: {"threadId":"…","message":{…}}\n\n: ping\n\n',
          },
        },
      },
    },
    problems: [P.ticketUsed, P.tooManyStreams],
  })
  async stream(
    @Req() request: FastifyRequest & { user?: Principal },
    @Res() reply: FastifyReply,
    @Query() query: EventsQuery,
    @Headers('last-event-id') lastEventId: string | undefined,
  ): Promise<void> {
    if (!this.hub.hasRoom()) throw P.tooManyStreams();
    const principal = request.user;
    if (!principal) throw Problems.unauthorized();
    const tenant = await this.tenants.runAsMember(principal, async (tenant) => {
      const ticket = principal.ticket;
      if (
        ticket &&
        !(await this.repo.consumeTicket(
          tenant.orgId,
          tenant.userId,
          ticket.nonce,
          ticket.expiresAt,
        ))
      ) {
        throw P.ticketUsed();
      }
      return tenant;
    });
    reply.hijack();
    await this.hub.start({
      orgId: tenant.orgId,
      userId: tenant.userId,
      viewer: {
        userId: tenant.userId,
        displayName: tenant.member.displayName,
        role: tenant.role,
        readReceipts: tenant.member.readReceipts,
        receiptsSince: new Date(tenant.member.receiptsSince),
      },
      raw: reply.raw,
      headers: reply.getHeaders(),
      lastEventId: lastEventId ?? query.lastEventId,
    });
  }
}
