/** Where the API is: the same origin by default (the API serves this app at /app/). */
export const API_BASE_URL: string = import.meta.env.VITE_API_BASE_URL ?? '';

const TOKEN_KEY = 'resident-messaging.token';

/** The token is kept per tab, so two tabs (or browser contexts) can be two members. */
export function readToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function writeToken(token: string | null): void {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage may be unavailable (private mode): the token then lives in memory only.
  }
}
