import { defineProblem, notFoundProblem } from '../platform/http/problem';

/** The refusals of the member routes, declared once (thrown and documented from here). */
export const MemberProblems = {
  memberNotFound: notFoundProblem('Member', 'No such member in this org.'),
  /** RolesGuard's answer to a member token on the provisioning API. */
  serviceOnly: defineProblem({
    status: 403,
    slug: 'forbidden',
    title: 'Forbidden',
    detail: 'This action requires the role service.',
    description: 'Not a service token.',
  }),
};
