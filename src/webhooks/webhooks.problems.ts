import { defineProblem, notFoundProblem } from '../platform/http/problem';

/** The refusals of the webhook routes, declared once (thrown and documented from here). */
export const WebhookProblems = {
  endpointNotFound: notFoundProblem('Webhook endpoint', 'Unknown endpoint, or one of another org.'),
  deliveryNotFound: notFoundProblem('Delivery', 'Unknown delivery, or one of another org.'),
  adminsOnly: defineProblem({
    status: 403,
    slug: 'forbidden',
    title: 'Forbidden',
    detail: 'This action requires the role org_admin.',
    description: 'Not an org admin (your membership’s role, whatever your token says).',
  }),
  endpointDisabled: defineProblem({
    status: 409,
    slug: 'endpoint-disabled',
    title: 'Endpoint disabled',
    detail:
      'The endpoint is disabled; enable it (PATCH enabled=true) before retrying its deliveries.',
    description: 'The endpoint is disabled.',
  }),
  deliveryInProgress: defineProblem({
    status: 409,
    slug: 'delivery-in-progress',
    title: 'Delivery in progress',
    detail:
      'An attempt of this delivery is under way; retry it once that attempt is logged (GET /api/v1/webhooks/deliveries/{id}/attempts).',
    description: 'An attempt is dispatched or under way: one attempt at a time.',
  }),
};
