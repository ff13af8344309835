import { createContext, useContext } from 'react';
import type { Membership } from '@resident-messaging/client';

export interface Session {
  me: Membership;
  signOut: () => void;
}

export const SessionContext = createContext<Session | null>(null);

/** The signed-in member (available inside the signed-in layout). */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession needs the signed-in layout above it.');
  return session;
}
