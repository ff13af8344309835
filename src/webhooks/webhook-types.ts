/** A delivery's status (SPEC §2 "Webhooks"). */
export const DELIVERY_STATUSES = ['pending', 'failed', 'succeeded', 'exhausted'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** Why an endpoint is disabled: by an admin, after a 410 Gone, or after failing too long. */
export const DISABLED_REASONS = ['manual', 'gone', 'failing'] as const;
export type DisabledReason = (typeof DISABLED_REASONS)[number];
