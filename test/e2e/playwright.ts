import type { Locator } from 'playwright-core';

/** playwright-core (the browser is Debian's chromium: nothing is downloaded). */
export { chromium } from 'playwright-core';
export type { Browser, BrowserContext, Page } from 'playwright-core';

const TIMEOUT_MS = 15_000;

async function poll(check: () => Promise<boolean>, timeoutMs: number, what: () => Promise<string>) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(await what());
    await new Promise((r) => setTimeout(r, 100));
  }
}

const text = async (locator: Locator) => (await locator.allInnerTexts()).join('\n');
const matches = (haystack: string, needle: string | RegExp) =>
  typeof needle === 'string' ? haystack.includes(needle) : needle.test(haystack);

/**
 * Web-first assertions (what @playwright/test's expect does, for the few used here): they wait
 * for the page to get there; `not.` checks the page as it is now.
 */
export function expect(locator: Locator) {
  return {
    async toContainText(needle: string | RegExp, options: { timeout?: number } = {}) {
      await poll(
        async () => matches(await text(locator), needle),
        options.timeout ?? TIMEOUT_MS,
        async () =>
          `expected ${String(locator)} to contain ${String(needle)}; it shows:\n${await text(locator).catch(() => '(nothing)')}`,
      );
    },
    async toBeVisible(options: { timeout?: number } = {}) {
      await locator.first().waitFor({ state: 'visible', timeout: options.timeout ?? TIMEOUT_MS });
    },
    async toHaveCount(count: number, options: { timeout?: number } = {}) {
      await poll(
        async () => (await locator.count()) === count,
        options.timeout ?? TIMEOUT_MS,
        async () => `expected ${count} of ${String(locator)}, found ${await locator.count()}`,
      );
    },
    not: {
      async toContainText(needle: string | RegExp) {
        const shown = await text(locator);
        if (matches(shown, needle)) {
          throw new Error(
            `expected ${String(locator)} not to contain ${String(needle)}:\n${shown}`,
          );
        }
      },
    },
  };
}
