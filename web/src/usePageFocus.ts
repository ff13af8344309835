import { useLayoutEffect, useRef } from 'react';

let firstPage = true;

/**
 * Moves focus to a page's heading once it shows, after an in-app navigation left focus nowhere
 * (the link that was activated is gone): screen readers then announce the new page. It never
 * takes focus from an element the member is using.
 */
export function usePageFocus<T extends HTMLElement>(ready = true) {
  const ref = useRef<T>(null);
  useLayoutEffect(() => {
    if (!ready) return;
    if (firstPage) {
      firstPage = false;
      return;
    }
    const active = document.activeElement;
    if (!active || active === document.body) ref.current?.focus();
  }, [ready]);
  return ref;
}
