import { useEffect, useState } from 'react';

export type Route =
  { name: 'conversations' } | { name: 'thread'; threadId: string } | { name: 'blocked' };

/** Hash routes: `#/` conversations, `#/threads/<id>` a thread, `#/blocked` blocked users. */
export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '') || '/';
  const thread = /^\/threads\/([^/?#]+)\/?$/.exec(path);
  if (thread) return { name: 'thread', threadId: decodeURIComponent(thread[1]) };
  if (/^\/blocked\/?$/.test(path)) return { name: 'blocked' };
  return { name: 'conversations' };
}

export const paths = {
  conversations: () => '#/',
  thread: (threadId: string) => `#/threads/${encodeURIComponent(threadId)}`,
  blocked: () => '#/blocked',
};

export function navigate(hash: string): void {
  if (window.location.hash !== hash) window.location.hash = hash;
}

export function routeKey(route: Route): string {
  return route.name === 'thread' ? `thread:${route.threadId}` : route.name;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
