import { Body, Controller, Delete, Put, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Roles } from '../platform/auth/decorators';
import { ApiProblems, invalidField, invalidUuid, UNKNOWN_QUERY } from '../platform/http/api-docs';
import { Endpoint } from '../platform/http/endpoint';
import { ApiUuidParam, UuidParam } from '../platform/http/decorators';
import { MembershipResponse, toMembershipResponse } from './dto/membership.response';
import { ProvisionMemberDto } from './dto/provision-member.dto';
import { MemberProblems as P } from './members.problems';
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
  P.serviceOnly,
  429,
  503,
)
export class ProvisioningController {
  constructor(private readonly members: MembersService) {}

  @Put()
  @Endpoint({
    operation: 'provisionMember',
    summary: 'Provision or update a member (service tokens only)',
    description:
      'Creates the membership (201) or updates it (200). Updating reactivates a deactivated member.',
    responses: {
      201: { type: MembershipResponse, description: 'Created.' },
      200: { type: MembershipResponse, description: 'Updated (and reactivated).' },
    },
    body: true,
    problems: [
      invalidField(
        'role',
        'role must be one of the following values: resident, manager, org_admin',
      ),
    ],
  })
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
  @Endpoint({
    operation: 'deactivateMember',
    summary: 'Deactivate a member (service tokens only)',
    description:
      'Soft: their token gets 403, they cannot be messaged, their messages stay. Provisioning them again reactivates them.',
    responses: { 204: { description: 'Deactivated (or already inactive).' } },
    body: false,
    problems: [P.memberNotFound],
  })
  async deactivate(
    @UuidParam('orgId') orgId: string,
    @UuidParam('userId') userId: string,
  ): Promise<void> {
    await this.members.deactivate(orgId.toLowerCase(), userId.toLowerCase());
  }
}
