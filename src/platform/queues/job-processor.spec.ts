import { UnrecoverableError, type Job } from 'bullmq';
import { requireDeliveryDispatches } from './job-processor';
import type { JobPayloads } from './queue-catalogue';

const ORG = '0190a000-0000-7000-8000-000000000001';
const A = '0190a000-0000-7000-8000-00000000000a';
const B = '0190a000-0000-7000-8000-00000000000b';
const job = (data: unknown) => ({ data }) as Job<JobPayloads['deliver-webhook']>;

describe('requireDeliveryDispatches', () => {
  it('returns the deliveries a batched job names', () => {
    const deliveries = [
      { deliveryId: A, attempt: 1, dispatch: 1 },
      { deliveryId: B, attempt: 3, dispatch: 4 },
    ];
    expect(requireDeliveryDispatches(job({ orgId: ORG, deliveries }))).toEqual(deliveries);
  });

  it('reads a job queued before batching (one delivery at the top level)', () => {
    expect(
      requireDeliveryDispatches(job({ orgId: ORG, deliveryId: A, attempt: 2, dispatch: 5 })),
    ).toEqual([{ deliveryId: A, attempt: 2, dispatch: 5 }]);
  });

  it.each([
    ['no deliveries at all', { orgId: ORG }],
    ['an empty list', { orgId: ORG, deliveries: [] }],
    [
      'an id that is no UUID',
      { orgId: ORG, deliveries: [{ deliveryId: 'x', attempt: 1, dispatch: 1 }] },
    ],
    [
      'a fractional attempt',
      { orgId: ORG, deliveries: [{ deliveryId: A, attempt: 1.5, dispatch: 1 }] },
    ],
    ['a missing dispatch', { orgId: ORG, deliveries: [{ deliveryId: A, attempt: 1 }] }],
    ['no org', { deliveries: [{ deliveryId: A, attempt: 1, dispatch: 1 }] }],
  ])('refuses %s as poison (no retries)', (_what, data) => {
    expect(() => requireDeliveryDispatches(job(data))).toThrow(UnrecoverableError);
  });
});
