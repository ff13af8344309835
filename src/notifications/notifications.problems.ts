import { notFoundProblem } from '../platform/http/problem';

/** The refusals of the notification routes, declared once (thrown and documented from here). */
export const NotificationProblems = {
  notificationNotFound: notFoundProblem(
    'Notification',
    'Unknown, not yours, or from a member you block (hidden while the block lasts).',
  ),
};
