import { Body, Controller, Get, Patch } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentTenant } from '../platform/auth/decorators';
import { UsesOrm } from '../platform/tenancy/uses-orm.decorator';
import { ApiMemberRoute, ApiProblems } from '../platform/http/api-docs';
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
  @ApiOkResponse({ type: MembershipResponse })
  me(@CurrentTenant() tenant: Tenant): MembershipResponse {
    return toMembershipResponse(tenant.orgId, tenant.member);
  }

  @Patch('settings')
  @UsesOrm()
  @ApiOperation({ summary: 'Change my visibility or read-receipt setting' })
  @ApiOkResponse({ type: MembershipResponse })
  @ApiProblems(400)
  async updateSettings(
    @CurrentTenant() tenant: Tenant,
    @Body() body: UpdateSettingsDto,
  ): Promise<MembershipResponse> {
    return toMembershipResponse(tenant.orgId, await this.members.updateSettings(tenant, body));
  }
}
