import { defineProblem, notFoundProblem } from '../platform/http/problem';

/**
 * Every refusal of the conversation routes, declared once: thrown from here and documented from
 * here (@Endpoint({ problems })). 404s never say why (unknown, other org, not a participant,
 * hidden): they are identical to an unknown id's apart from `instance`.
 */
export const ConversationProblems = {
  threadNotFound: notFoundProblem(
    'Thread',
    'Unknown thread, or one you do not take part in: the two are indistinguishable.',
  ),
  messageNotFound: notFoundProblem(
    'Message',
    'Unknown thread or message, or one you cannot see: indistinguishable.',
  ),
  recipientNotFound: notFoundProblem(
    'Recipient',
    'Unknown, inactive, hidden (for residents) or unreachable member: indistinguishable.',
  ),
  startWithYourself: defineProblem({
    status: 400,
    slug: 'bad-request',
    title: 'Bad request',
    detail: 'You cannot start a thread with yourself.',
    description: 'Starting a thread with yourself.',
    field: 'recipientId',
    key: 'start-with-yourself',
  }),
  keyWithoutBody: defineProblem({
    status: 400,
    slug: 'bad-request',
    title: 'Bad request',
    detail: 'An idempotency key needs a body to send.',
    description: 'An idempotency key without a body (nothing to send).',
    field: 'clientMessageId',
    key: 'key-without-body',
  }),
  keyMismatch: defineProblem({
    status: 400,
    slug: 'bad-request',
    title: 'Bad request',
    detail:
      'clientMessageId and the Idempotency-Key header differ; send one, or the same value in both.',
    description: 'clientMessageId and Idempotency-Key differ.',
    field: 'clientMessageId',
    key: 'idempotency-key-mismatch',
  }),
  keyHeaderRepeated: defineProblem({
    status: 400,
    slug: 'bad-request',
    title: 'Bad request',
    detail: 'Send one Idempotency-Key header.',
    description: 'More than one Idempotency-Key header.',
    field: 'Idempotency-Key',
    key: 'idempotency-key-repeated',
  }),
  keyHeaderMalformed: defineProblem({
    status: 400,
    slug: 'bad-request',
    title: 'Bad request',
    detail: 'Idempotency-Key must be 1–64 printable ASCII characters without spaces.',
    description: 'A malformed Idempotency-Key header.',
    field: 'Idempotency-Key',
    key: 'idempotency-key-malformed',
  }),
  beforeAndAfter: defineProblem({
    status: 400,
    slug: 'bad-request',
    title: 'Bad request',
    detail: 'Pass either before or after, not both.',
    description: 'Both before and after.',
    field: 'before',
    key: 'before-and-after',
  }),
  beforeNotVisible: defineProblem({
    status: 400,
    slug: 'bad-request',
    title: 'Bad request',
    detail: 'before must be the id of a message of this thread that you can see',
    description: 'A cursor message that is not one you can see in this thread.',
    field: 'before',
    key: 'before-not-visible',
  }),
  afterNotVisible: defineProblem({
    status: 400,
    slug: 'bad-request',
    title: 'Bad request',
    detail: 'after must be the id of a message of this thread that you can see',
    description: 'A cursor message that is not one you can see in this thread.',
    field: 'after',
    key: 'after-not-visible',
  }),
  blockedByYou: defineProblem({
    status: 409,
    slug: 'blocked-by-you',
    title: 'Blocked by you',
    detail: 'You block this member: unblock them to send.',
    description: 'You block the other participant.',
  }),
  recipientInactive: defineProblem({
    status: 409,
    slug: 'recipient-inactive',
    title: 'Recipient inactive',
    detail: 'The other participant’s membership is inactive; they cannot receive messages.',
    description: 'The other participant was deactivated.',
  }),
  requestInProgress: defineProblem({
    status: 409,
    slug: 'request-in-progress',
    title: 'Request in progress',
    detail: 'A request with this idempotency key is still being processed; retry shortly.',
    description: 'A request with the same key is still in flight.',
    headers: { 'retry-after': '1' },
  }),
  keyReused: defineProblem({
    status: 422,
    slug: 'idempotency-key-reused',
    title: 'Idempotency key reused',
    detail: 'This idempotency key was already used for a different message or thread.',
    description: 'The key was used with another body or thread.',
  }),
  notSender: defineProblem({
    status: 403,
    slug: 'not-message-sender',
    title: 'Not the sender',
    detail: 'Only the sender can delete a message.',
    description: 'A message you can see but did not send.',
  }),
  threadLimit: defineProblem({
    status: 429,
    slug: 'rate-limited',
    title: 'Too many requests',
    detail:
      'You can start at most 30 new threads an hour; retry after the number of seconds in Retry-After.',
    description: 'More than 30 new threads in an hour (RATE_LIMIT_THREADS_PER_HOUR).',
    key: 'thread-limit',
  }),
};

/** What a send (or a start with a body) may answer besides the route's own refusals. */
export const SEND_PROBLEMS = [
  ConversationProblems.keyMismatch,
  ConversationProblems.keyHeaderRepeated,
  ConversationProblems.keyHeaderMalformed,
  ConversationProblems.blockedByYou,
  ConversationProblems.recipientInactive,
  ConversationProblems.requestInProgress,
  ConversationProblems.keyReused,
];
