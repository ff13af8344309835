import { defineProblem, notFoundProblem } from '../platform/http/problem';

/** The refusals of the block routes, declared once (thrown and documented from here). */
export const BlockProblems = {
  blockYourself: defineProblem({
    status: 400,
    slug: 'bad-request',
    title: 'Bad request',
    detail: 'You cannot block yourself.',
    description: 'Blocking yourself.',
    field: 'id',
    key: 'block-yourself',
  }),
  memberNotFound: notFoundProblem(
    'Member',
    'Unknown user, not a member of your org, or a member you may not block (one you neither share a thread with nor find in your directory): indistinguishable.',
  ),
};
