import { Body, Controller, Get, Patch } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentTenant } from '../platform/tenancy/current-tenant.decorator';
import { ApiJsonBody, ApiMemberRoute, ApiProblems, invalidField } from '../platform/http/api-docs';
import type { Tenant } from '../platform/tenancy/tenant-context';
import { MembershipResponse, toMembershipResponse } from './dto/membership.response';
import { UpdateSettingsDto } from './dto/update-settings.dto';
import { MembersService } from './members.service';

@ApiTags('me')
@ApiMemberRoute()
@Controller('me')
export class MeController {
  constructor(private readonly members: MembersService) {}

  @Get()
  @ApiOperation({
    summary: 'My membership in the token’s org',
    description:
      'The first request of a (user, org) provisions the membership from the token claims.',
  })
  @ApiOkResponse({
    type: MembershipResponse,
    description: 'Your membership: how others see you, and your settings.',
  })
  me(@CurrentTenant() tenant: Tenant): MembershipResponse {
    return toMembershipResponse(tenant.orgId, tenant.member);
  }

  @Patch('settings')
  @ApiOperation({ summary: 'Change my visibility or read-receipt setting' })
  @ApiOkResponse({
    type: MembershipResponse,
    description: 'Your membership with the new settings; fields left out are unchanged.',
  })
  @ApiProblems(
    invalidField('visibility', 'visibility must be one of the following values: visible, hidden'),
  )
  @ApiJsonBody()
  async updateSettings(
    @CurrentTenant() tenant: Tenant,
    @Body() body: UpdateSettingsDto,
  ): Promise<MembershipResponse> {
    return toMembershipResponse(tenant.orgId, await this.members.updateSettings(tenant, body));
  }
}
