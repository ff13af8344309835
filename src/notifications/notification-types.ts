/** The kinds of in-app notification. */
export const NOTIFICATION_TYPES = [
  'thread.started',
  'message.received',
  'webhook.disabled',
] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];
