import { JSDOM } from 'jsdom';

/**
 * A DOM for React in a Node test (imported first by the hooks tests): the page's globals come
 * from jsdom, while fetch, streams, timers and Buffer stay Node's own, so the same test can run
 * the real service in process and talk to it.
 */
const dom = new JSDOM('<!doctype html><html><body></body></html>', { url: 'http://localhost/' });
const g = globalThis as Record<string, unknown>;
for (const key of [
  'window',
  'document',
  'HTMLElement',
  'Node',
  'Element',
  'MutationObserver',
  'getComputedStyle',
]) {
  const value = (dom.window as unknown as Record<string, unknown>)[key];
  g[key] =
    typeof value === 'function' && key === 'getComputedStyle' ? value.bind(dom.window) : value;
}
if (!('navigator' in globalThis)) g.navigator = dom.window.navigator;
g.IS_REACT_ACT_ENVIRONMENT = true;

export function closeDom(): void {
  dom.window.close();
}
