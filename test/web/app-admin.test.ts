import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { checkChromium, openChromium, type OpenedChromium } from '../support/chromium.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { requireService } from '../support/services.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { testJwtSecret } from '../support/tokens.js';
import { axeViolations, countOf, savedToken, sendAndWait, signUp, textsOf } from './app-page-helpers.js';

const chromiumAvailable = await requireService('Chromium', checkChromium);

interface AdminUser {
  userId: string;
  email: string | null;
  usage: { todayTokens: number; totalTokens: number };
  conversationsCount: number;
  budgets: { daily: { limit: number | null; left: number | null }; lifetime: { limit: number | null; left: number | null } };
}

interface ProviderReport {
  provider: string;
  breaker: string | null;
  lastHour: { turns: number };
}

/** How the page writes a count and a budget (web/app/src/components/admin/admin-format.ts), to compare with the API's numbers. */
const count = (value: number) => value.toLocaleString('en');
const budgetText = ({ limit, left }: { limit: number | null; left: number | null }) =>
  limit === null || left === null ? 'no limit' : `${count(left)} of ${count(limit)}`;

const adminEmail = 'admin@example.com';
const memberEmail = 'member@example.com';

/**
 * The admin page (#/admin) after real chat traffic from two built-in
 * accounts through a loopback OpenAI: the first account (the admin) sees
 * what the admin API says, the second (a member) is refused. The app's
 * chats (seed 002) are pointed at an OpenAI model with CLAUDE_MODEL.
 */
describe.skipIf(!chromiumAvailable)('the web app’s admin page, in Chromium', () => {
  let fake: FakeUpstream;
  let server: TestServer;
  let adminBrowser: OpenedChromium;
  let memberBrowser: OpenedChromium;
  let admin: Page;
  let member: Page;
  let adminToken: string;

  beforeAll(async () => {
    fake = await FakeUpstream.start({ reply: 'Hello from the loopback upstream', tokenDelayMs: 0 });
    server = await startTestServer({
      env: { JWT_SECRET: testJwtSecret, OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.openaiBaseUrl, CLAUDE_MODEL: 'gpt-4o-mini' },
    });
    // bypassCSP only so that axe-core's source can be injected; the member's browser runs the app under the server's CSP.
    adminBrowser = await openChromium({ bypassCSP: true });
    memberBrowser = await openChromium();
    admin = await adminBrowser.context.newPage();
    member = await memberBrowser.context.newPage();

    // The first built-in account is the admin: two conversations, three turns.
    await admin.goto(`${server.url}/`);
    await signUp(admin, adminEmail);
    adminToken = await savedToken(admin);
    await sendAndWait(admin, 'first question from the admin');
    await sendAndWait(admin, 'a follow-up from the admin');
    await admin.getByRole('button', { name: 'New chat', exact: true }).click();
    await admin.locator('#empty-state').waitFor();
    await sendAndWait(admin, 'a second conversation from the admin');

    await member.goto(`${server.url}/`);
    await signUp(member, memberEmail);
    await sendAndWait(member, 'the member asks something');

    // Each conversation's automatic title is one more model call, billed after the turn: wait for them, so usage holds still.
    for (const token of [adminToken, await savedToken(member)]) {
      await vi.waitFor(
        async () => {
          const response = await fetch(`${server.url}/api/v1/chat/sessions`, { headers: { authorization: `Bearer ${token}` } });
          const { sessions } = (await response.json()) as { sessions: { title: string }[] };
          expect(sessions.map((session) => session.title)).not.toContain('New Chat');
        },
        { timeout: 5_000 },
      );
    }
  });
  afterAll(async () => {
    await adminBrowser?.close();
    await memberBrowser?.close();
    await server?.close();
    await fake?.close();
  });

  async function adminApi<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
    const response = await fetch(`${server.url}${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${adminToken}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    expect(response.status, path).toBe(200);
    return (await response.json()) as T;
  }

  const listUsers = async () => (await adminApi<{ data: AdminUser[] }>('/api/v1/admin/users?limit=100')).data;
  const userCell = (userId: string, field: string) => admin.locator(`#admin-users tr[data-user-id="${userId}"] [data-field="${field}"]`);
  const userRowTexts = (userId: string) =>
    Promise.all(['today', 'total', 'daily-left', 'lifetime-left', 'conversations'].map((field) => userCell(userId, field).textContent()));
  const expectedRowTexts = (user: AdminUser) => [
    count(user.usage.todayTokens),
    count(user.usage.totalTokens),
    budgetText(user.budgets.daily),
    budgetText(user.budgets.lifetime),
    count(user.conversationsCount),
  ];
  const memberOf = (users: AdminUser[]) => users.find((user) => user.email === memberEmail)!;

  it('shows the admin the Admin link and, at #/admin, the users as GET /api/v1/admin/users reports them', async () => {
    const link = admin.locator('#sidebar').getByRole('link', { name: 'Admin', exact: true });
    await link.click();
    await expect.poll(() => admin.evaluate(() => (globalThis as unknown as { location: { hash: string } }).location.hash)).toBe('#/admin');
    await admin.locator('#admin-users').waitFor();

    const users = await listUsers();
    expect(users.map((user) => user.email).sort()).toEqual([adminEmail, memberEmail]);
    const byEmail = new Map(users.map((user) => [user.email, user]));
    // What the chat traffic left: tokens used today (all of them), the conversations started.
    for (const user of users) {
      expect(user.usage.todayTokens).toBeGreaterThan(0);
      expect(user.usage.totalTokens).toBe(user.usage.todayTokens);
    }
    expect(byEmail.get(adminEmail)!.conversationsCount).toBe(2);
    expect(byEmail.get(memberEmail)!.conversationsCount).toBe(1);
    expect(byEmail.get(adminEmail)!.usage.todayTokens).toBeGreaterThan(byEmail.get(memberEmail)!.usage.todayTokens);

    await countOf(admin.locator('#admin-users tbody tr')).toBe(2);
    for (const user of users) {
      expect(await userRowTexts(user.userId), user.email!).toEqual(expectedRowTexts(user));
      // The chart's bar carries the same number.
      expect(await admin.locator(`.admin-chart .bar[data-user-id="${user.userId}"]`).getAttribute('data-tokens')).toBe(
        String(user.usage.todayTokens),
      );
    }
  });

  it('shows the OpenAI provider with its breaker state and the last hour’s turns', async () => {
    const { providers } = await adminApi<{ providers: ProviderReport[] }>('/api/v1/admin/providers');
    const openai = providers.find((provider) => provider.provider === 'openai')!;
    expect(openai.breaker).toBe('closed');
    expect(openai.lastHour.turns).toBe(4);
    const row = admin.locator('#admin-providers tr[data-provider="openai"]');
    expect(await row.locator('[data-field="breaker"]').textContent()).toBe('Closed');
    expect(await row.locator('[data-field="turns"]').textContent()).toBe(count(openai.lastHour.turns));
    expect(await row.locator('[data-field="failures"]').textContent()).toBe('none');
    await countOf(admin.locator('#admin-providers tbody tr')).toBe(providers.length);
  });

  it('after a budget change through the admin API, shows a new audit row naming it and the new budget left on reload', async () => {
    const auditRows = admin.locator('#admin-audit tbody tr');
    const rowsBefore = await auditRows.count();
    const before = memberOf(await listUsers());
    expect(await userCell(before.userId, 'daily-left').textContent()).toBe('no limit');

    await adminApi(`/api/v1/admin/users/${encodeURIComponent(before.userId)}`, { method: 'PATCH', body: { tokenBudgetDaily: 20_000 } });
    await admin.reload();
    await admin.locator('#admin-users').waitFor();

    await countOf(auditRows).toBe(rowsBefore + 1);
    const newest = auditRows.first();
    expect(
      await Promise.all(['actor', 'action', 'target', 'changes'].map((field) => newest.locator(`[data-field="${field}"]`).textContent())),
    ).toEqual([adminEmail, 'user.update', memberEmail, 'tokenBudgetDaily: 20000']);

    const after = memberOf(await listUsers());
    expect(after.budgets.daily).toEqual({ limit: 20_000, left: 20_000 - after.usage.todayTokens });
    await textsOf(userCell(after.userId, 'daily-left')).toEqual([`${count(20_000 - after.usage.todayTokens)} of 20,000`]);
    expect(await userRowTexts(after.userId)).toEqual(expectedRowTexts(after));
  });

  it('shows a member no Admin link, and the admins-only message at #/admin', async () => {
    const probe = member.waitForResponse((response) => response.url().endsWith('/api/v1/admin/users?limit=1'));
    await member.reload();
    expect((await probe).status()).toBe(403);
    await member.locator('#sidebar').getByRole('link', { name: 'Usage' }).waitFor();
    await countOf(member.locator('#sidebar').getByRole('link', { name: 'Admin', exact: true })).toBe(0);

    await member.goto(`${server.url}/#/admin`);
    await member.locator('#admin-refused').waitFor();
    expect(await member.locator('#admin-refused').textContent()).toContain('for admins only');
    await countOf(member.locator('#admin-users')).toBe(0);
  });

  for (const viewport of [
    { name: 'a desktop', width: 1280, height: 800 },
    { name: 'a phone', width: 390, height: 844 },
  ]) {
    it(`has no axe-core violations on ${viewport.name} (${viewport.width} px), in both themes, and no sideways page scroll`, async () => {
      await admin.setViewportSize({ width: viewport.width, height: viewport.height });
      for (const colorScheme of ['light', 'dark'] as const) {
        await admin.emulateMedia({ colorScheme });
        await admin.goto(`${server.url}/#/admin`);
        await admin.reload();
        await admin.locator('#admin-providers').waitFor();
        expect(await axeViolations(admin), colorScheme).toEqual([]);
      }
      const widths = await admin.evaluate(() => {
        const document = (globalThis as any).document;
        const admin = document.querySelector('.admin');
        return {
          page: document.documentElement.scrollWidth as number,
          admin: { scroll: admin.scrollWidth as number, client: admin.clientWidth as number },
          tables: document.querySelectorAll('.admin-table').length as number,
          scrollers: [...document.querySelectorAll('.table-scroll')].map((scroller: any) => ({
            right: scroller.getBoundingClientRect().right as number,
            scroll: scroller.scrollWidth as number,
            client: scroller.clientWidth as number,
          })),
        };
      });
      // Neither the page nor the admin view scrolls sideways: a table wider than the screen scrolls in its own region.
      expect(widths.page).toBeLessThanOrEqual(viewport.width);
      expect(widths.admin.scroll).toBeLessThanOrEqual(widths.admin.client);
      expect(widths.scrollers).toHaveLength(widths.tables);
      for (const scroller of widths.scrollers) expect(scroller.right).toBeLessThanOrEqual(viewport.width);
      // On the phone the users table is wider than the screen, so the case above is really met.
      if (viewport.width < 500) expect(widths.scrollers[0]!.scroll).toBeGreaterThan(widths.scrollers[0]!.client);
    });
  }
});
