import { ProblemError } from '@resident-messaging/client';

/** What to tell the member about a failure: the problem's detail when the API sent one. */
export function errorMessage(error: unknown): string {
  if (error instanceof ProblemError) return error.detail || error.title;
  if (error instanceof Error && error.message) return error.message;
  return 'Something went wrong.';
}
