import { namedEnum } from '../../platform/http/named-schemas';
import { MEMBER_ROLES, VISIBILITIES } from '../../platform/auth/roles';

/** The OpenAPI schema of a member's role (MemberRole). */
export const MemberRoleEnum = namedEnum(
  'MemberRole',
  MEMBER_ROLES,
  'A member’s role in the organization: `resident`, `manager` (building staff) or `org_admin` (also manages the webhook API).',
);

/** The OpenAPI schema of a member's visibility in the directory (MemberVisibility). */
export const MemberVisibilityEnum = namedEnum(
  'MemberVisibility',
  VISIBILITIES,
  'Whether residents find the member in the recipient directory: `visible`, or `hidden` (left out of residents’ directory; residents cannot start new threads with them).',
);
