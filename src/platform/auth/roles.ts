/** A member's role in an org, as the membership stores it. */
export type MemberRole = 'resident' | 'manager' | 'org_admin';
export const MEMBER_ROLES: readonly MemberRole[] = ['resident', 'manager', 'org_admin'];

/** Hidden members are left out of residents' directory (SPEC §2 "Members"). */
export type Visibility = 'visible' | 'hidden';
export const VISIBILITIES: readonly Visibility[] = ['visible', 'hidden'];
