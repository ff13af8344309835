import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  chromium,
  expect as pwExpect,
  type Browser,
  type BrowserContext,
  type Page,
} from './playwright';
import { seedDemoOrg } from '../../src/platform/dev/dev-seed';
import { urlFor } from '../support/env';
import { listen } from '../support/sse';
import { startTestApp, UNTHROTTLED, type TestApp } from '../support/test-app';

const ROOT = join(__dirname, '..', '..');
const SHOTS = join(ROOT, 'docs', 'screenshots');

/**
 * The web app in a real browser (Debian's chromium through playwright-core), against the real
 * service with its worker, two members in two browser contexts: SPEC's AC-1..3 and a reconnect.
 * Each step leaves a screenshot in docs/screenshots/.
 */
describe('the web app in Chromium', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  let alice: Page;
  let bob: Page;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'web', 'dist', 'index.html'))) {
      throw new Error('web/dist is missing: npm run web:build first (npm run test:e2e does)');
    }
    mkdirSync(SHOTS, { recursive: true });
    t = await startTestApp({
      ...UNTHROTTLED,
      WORKER_ENABLED: 'true',
      DEV_SEED: 'true',
      WEB_APP_ENABLED: 'true',
      WEB_APP_DIR: join(ROOT, 'web', 'dist'),
    });
    await seedDemoOrg(urlFor(t.database));
    base = await listen(t);
    browser = await chromium.launch({
      executablePath: execFileSync('which', ['chromium']).toString().trim(),
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
    alice = await signIn('Alice Martin');
    bob = await signIn('Bob Nguyen');
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await t?.close();
  });

  async function signIn(name: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (error) => console.error(`${name}'s page: ${error.message}`));
    await page.goto(`${base}/app/`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByRole('button', { name }).click();
    await page
      .getByRole('list', { name: 'Conversations' })
      .or(page.getByText('No conversations yet'))
      .first()
      .waitFor();
    return page;
  }

  const shot = (page: Page, name: string) =>
    page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
  const log = (page: Page) => page.getByRole('log', { name: 'Messages' });
  const composer = (page: Page) => page.getByRole('textbox', { name: 'Message' });
  const messagesLink = (page: Page) =>
    page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /^Messages/ });

  it('AC-1: Alice starts a conversation; Bob’s list shows it live with an unread badge', async () => {
    await shot(alice, '1-sign-in-done');
    await alice.getByRole('button', { name: 'New conversation' }).click();
    const recipient = alice.getByRole('combobox', { name: 'Recipient' });
    await recipient.fill('Bob');
    await alice.getByRole('option', { name: /Bob Nguyen/ }).click();
    await composer(alice).waitFor();
    await composer(alice).fill('Hello Bob, welcome to the building!');
    await composer(alice).press('Enter');
    await pwExpect(log(alice)).toContainText('Hello Bob, welcome to the building!');
    await shot(alice, '1-alice-first-message');

    const list = bob.getByRole('list', { name: 'Conversations' });
    const item = list.getByRole('listitem').filter({ hasText: 'Alice Martin' });
    await pwExpect(item).toContainText('Hello Bob, welcome');
    await pwExpect(item.getByLabel(/1 unread/)).toBeVisible();
    await pwExpect(messagesLink(bob)).toContainText('1');
    await shot(bob, '1-bob-list-live');
  });

  it('AC-2: they exchange messages in order; Alice sees “Seen” once Bob opened the thread', async () => {
    await bob
      .getByRole('list', { name: 'Conversations' })
      .getByRole('link', { name: /Alice Martin/ })
      .click();
    await pwExpect(log(bob)).toContainText('Hello Bob, welcome to the building!');
    await composer(bob).fill('Hi Alice!\nThanks.');
    await composer(bob).press('Enter');
    await pwExpect(log(alice)).toContainText('Hi Alice!');
    const texts = await log(alice).innerText();
    expect(texts.indexOf('Hello Bob')).toBeLessThan(texts.indexOf('Hi Alice!'));
    await pwExpect(log(alice)).toContainText(/Seen\s*\S+/);
    await shot(alice, '2-alice-seen');
    await shot(bob, '2-bob-thread');
  });

  it('AC-3: Alice blocks Bob; his send shows no sign of it and reaches her not; she unblocks', async () => {
    const unreadBefore = await messagesLink(alice).innerText();
    await alice.getByRole('button', { name: 'Block' }).click();
    const dialog = alice.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Block' }).click();
    await pwExpect(alice.getByRole('button', { name: 'Unblock' })).toBeVisible();
    await shot(alice, '3-alice-blocked');

    await composer(bob).fill('Are you there?');
    await composer(bob).press('Enter');
    const bobsBubble = log(bob).getByText('Are you there?');
    await pwExpect(bobsBubble).toBeVisible();
    await pwExpect(log(bob)).not.toContainText('Sending');
    await pwExpect(bob.getByRole('alert')).toHaveCount(0);
    await shot(bob, '3-bob-sends-unaware');

    // Give the stream time to deliver anything it (wrongly) would.
    await alice.waitForTimeout(2000);
    await pwExpect(log(alice)).not.toContainText('Are you there?');
    expect(await messagesLink(alice).innerText()).toBe(unreadBefore);

    await alice.getByRole('link', { name: 'Blocked users' }).click();
    await alice.getByRole('heading', { name: 'Blocked users' }).waitFor();
    await pwExpect(alice.getByText('Bob Nguyen')).toBeVisible();
    await shot(alice, '3-blocked-users-page');
    await alice.getByRole('button', { name: /^Unblock/ }).click();
    await pwExpect(alice.getByText('You have not blocked anyone')).toBeVisible();
  });

  it('Reconnect: Bob goes offline, Alice sends, Bob comes back and sees it', async () => {
    await alice
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: /^Messages/ })
      .click();
    await alice
      .getByRole('list', { name: 'Conversations' })
      .getByRole('link', { name: /Bob Nguyen/ })
      .click();
    await composer(alice).waitFor();
    const bobContext = bob.context();
    await bobContext.setOffline(true);
    await composer(alice).fill('While you were away');
    await composer(alice).press('Enter');
    await pwExpect(log(alice)).toContainText('While you were away');
    await bob.waitForTimeout(1500);
    await bobContext.setOffline(false);
    await pwExpect(log(bob)).toContainText('While you were away', { timeout: 40_000 });
    await shot(bob, '4-bob-back-online');
  });

  it('Quality: 320 px wide, a 4,000-character message with a long word, keyboard only', async () => {
    await bob.setViewportSize({ width: 320, height: 640 });
    const long = `${'x'.repeat(300)} ${'word '.repeat(740)}`.slice(0, 4000);
    await composer(bob).fill(long);
    // Keyboard only: Tab from the textbox reaches Send, Enter presses it.
    await composer(bob).press('Tab');
    await pwExpect(bob.getByRole('button', { name: 'Send' })).toBeVisible();
    expect(await bob.evaluate<string | null>('document.activeElement?.textContent')).toBe('Send');
    await bob.keyboard.press('Enter');
    await pwExpect(log(bob)).toContainText('word word word');
    const overflow = await bob.evaluate<number>(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await shot(bob, '5-narrow-long-message');
    await bob.setViewportSize({ width: 1100, height: 760 });
  });
});
