import { Body, Controller, Delete, HttpCode, Put, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Roles } from '../platform/auth/decorators';
import {
  ApiJsonBody,
  ApiProblems,
  invalidField,
  invalidUuid,
  UNEXPECTED_BODY,
  UNKNOWN_QUERY,
} from '../platform/http/api-docs';
import { ApiUuidParam, UuidParam } from '../platform/http/decorators';
import { MembershipResponse, toMembershipResponse } from './dto/membership.response';
import { ProvisionMemberDto } from './dto/provision-member.dto';
import { MembersService } from './members.service';

@ApiTags('provisioning')
@ApiBearerAuth('bearer')
@Roles('service')
@Controller('admin/orgs/:orgId/members/:userId')
@ApiUuidParam('orgId', 'The org; created on first use.', '0b7c4d9e-6f1a-4c2b-9d3e-5f6a7b8c9d0e')
@ApiUuidParam(
  'userId',
  'The user (the identity provider’s `sub`).',
  '7e57a000-0000-4000-8000-0000000000a1',
)
@ApiProblems(
  UNKNOWN_QUERY,
  invalidUuid('orgId'),
  invalidUuid('userId'),
  401,
  {
    status: 403,
    detail: 'This action requires the role service.',
    description: 'Not a service token.',
  },
  429,
  503,
)
export class ProvisioningController {
  constructor(private readonly members: MembersService) {}

  @Put()
  @ApiOperation({
    summary: 'Provision or update a member (service tokens only)',
    description:
      'Creates the membership (201) or updates it (200). Updating reactivates a deactivated member.',
  })
  @ApiCreatedResponse({ type: MembershipResponse, description: 'Created.' })
  @ApiOkResponse({ type: MembershipResponse, description: 'Updated (and reactivated).' })
  @ApiProblems(
    invalidField('role', 'role must be one of the following values: resident, manager, org_admin'),
  )
  @ApiJsonBody()
  async provision(
    @UuidParam('orgId') orgId: string,
    @UuidParam('userId') userId: string,
    @Body() body: ProvisionMemberDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<MembershipResponse> {
    const { member, created } = await this.members.provision(
      orgId.toLowerCase(),
      userId.toLowerCase(),
      body,
    );
    void reply.status(created ? 201 : 200);
    return toMembershipResponse(orgId.toLowerCase(), member);
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({
    summary: 'Deactivate a member (service tokens only)',
    description:
      'Soft: their token gets 403, they cannot be messaged, their messages stay. Provisioning them again reactivates them.',
  })
  @ApiNoContentResponse({ description: 'Deactivated (or already inactive).' })
  @ApiProblems(UNEXPECTED_BODY, {
    status: 404,
    detail: 'Member was not found.',
    description: 'No such member in this org.',
  })
  async deactivate(
    @UuidParam('orgId') orgId: string,
    @UuidParam('userId') userId: string,
  ): Promise<void> {
    await this.members.deactivate(orgId.toLowerCase(), userId.toLowerCase());
  }
}
