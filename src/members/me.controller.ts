import { Body, Controller, Get, Patch } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ApiMemberRoute, invalidField } from '../platform/http/api-docs';
import { Endpoint } from '../platform/http/endpoint';
import { CurrentTenant } from '../platform/tenancy/current-tenant.decorator';
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
  @Endpoint({
    operation: 'getMe',
    summary: 'My membership in the token’s org',
    description:
      'The first request of a (user, org) provisions the membership from the token claims.',
    responses: {
      200: {
        type: MembershipResponse,
        description: 'Your membership: how others see you, and your settings.',
      },
    },
  })
  me(@CurrentTenant() tenant: Tenant): MembershipResponse {
    return toMembershipResponse(tenant.orgId, tenant.member);
  }

  @Patch('settings')
  @Endpoint({
    operation: 'updateMySettings',
    summary: 'Change my visibility or read-receipt setting',
    responses: {
      200: {
        type: MembershipResponse,
        description: 'Your membership with the new settings; fields left out are unchanged.',
      },
    },
    body: true,
    problems: [
      invalidField('visibility', 'visibility must be one of the following values: visible, hidden'),
    ],
  })
  async updateSettings(
    @CurrentTenant() tenant: Tenant,
    @Body() body: UpdateSettingsDto,
  ): Promise<MembershipResponse> {
    return toMembershipResponse(tenant.orgId, await this.members.updateSettings(tenant, body));
  }
}
