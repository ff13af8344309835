import { ProblemError, Problems } from '../platform/http/problem';

/** The refusals of the messaging routes. 404s never say why (unknown, other org, not yours). */
export const MessagingProblems = {
  threadNotFound: () => Problems.notFound('Thread'),
  messageNotFound: () => Problems.notFound('Message'),
  recipientNotFound: () => Problems.notFound('Recipient'),
  blockedByYou: () =>
    new ProblemError(
      409,
      'blocked-by-you',
      'Blocked by you',
      'You block this member: unblock them to send.',
    ),
  recipientInactive: () =>
    new ProblemError(
      409,
      'recipient-inactive',
      'Recipient inactive',
      'The other participant’s membership is inactive; they cannot receive messages.',
    ),
  requestInProgress: () =>
    new ProblemError(
      409,
      'request-in-progress',
      'Request in progress',
      'A request with this idempotency key is still being processed; retry shortly.',
      undefined,
      { 'retry-after': '1' },
    ),
  keyReused: () =>
    new ProblemError(
      422,
      'idempotency-key-reused',
      'Idempotency key reused',
      'This idempotency key was already used for a different message or thread.',
    ),
  notSender: () =>
    new ProblemError(
      403,
      'not-message-sender',
      'Not the sender',
      'Only the sender can delete a message.',
    ),
};
