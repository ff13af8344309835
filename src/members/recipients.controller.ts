import { Controller, Get, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ApiMemberRoute } from '../platform/http/api-docs';
import { Endpoint } from '../platform/http/endpoint';
import type { Page } from '../platform/http/pagination';
import { CurrentTenant } from '../platform/tenancy/current-tenant.decorator';
import type { Tenant } from '../platform/tenancy/tenant-context';
import type { MemberSummary } from './dto/member-summary.response';
import { RecipientPageResponse } from './dto/recipient.response';
import { RecipientsQuery } from './dto/recipients.query';
import { MembersService } from './members.service';

@ApiTags('threads')
@ApiMemberRoute()
@Controller('messages/recipients')
export class RecipientsController {
  constructor(private readonly members: MembersService) {}

  @Get()
  @Endpoint({
    operation: 'listRecipients',
    summary: 'The members I may message',
    description:
      'Active members of your org other than you, by display name. Residents see visible members only; managers and org admins also see hidden ones.',
    responses: {
      200: {
        type: RecipientPageResponse,
        description: 'A page of the members you may message, by display name.',
      },
    },
    cursorExample: 'WyJhbGljZSBtYXJ0aW4iLCI3ZTU3YTAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwYTEiXQ',
    problems: [400],
  })
  list(
    @CurrentTenant() tenant: Tenant,
    @Query() query: RecipientsQuery,
  ): Promise<Page<MemberSummary>> {
    return this.members.recipients(tenant, query);
  }
}
