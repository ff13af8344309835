import { useEffect, useState } from 'react';

/**
 * `flag`, but turning true only after it has stayed true for `delayMs`: a fast send never
 * flickers through its "Sending…" look, a slow one shows it.
 */
export function useDelayedFlag(flag: boolean, delayMs: number): boolean {
  const [shown, setShown] = useState(false);
  useEffect(() => {
    if (!flag) {
      setShown(false);
      return;
    }
    const timer = setTimeout(() => setShown(true), delayMs);
    return () => clearTimeout(timer);
  }, [flag, delayMs]);
  return flag && shown;
}
