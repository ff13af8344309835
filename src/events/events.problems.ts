import { defineProblem } from '../platform/http/problem';

/** The refusals of the event stream routes, declared once (thrown and documented from here). */
export const EventProblems = {
  ticketUsed: defineProblem({
    status: 401,
    slug: 'unauthorized',
    title: 'Unauthorized',
    detail: 'This stream ticket was used already; get a new one (POST /api/v1/events/tickets).',
    description: 'A stream ticket opens one stream.',
    key: 'ticket-used',
    headers: { 'www-authenticate': 'Bearer realm="resident-messaging"' },
  }),
  tooManyStreams: defineProblem({
    status: 503,
    slug: 'service-unavailable',
    title: 'Service unavailable',
    detail: 'This server holds as many event streams as it may; retry shortly.',
    description: 'The process holds EVENTS_MAX_STREAMS streams.',
    key: 'too-many-streams',
    headers: { 'retry-after': '5' },
  }),
};
