import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkChromium, openChromium, type OpenedChromium } from '../support/chromium.js';
import { FakeUpstream, type RecordedRequest } from '../support/fake-upstream.js';
import { rateLimitsOff } from '../support/limits-off.js';
import { requireService } from '../support/services.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { countOf, messagesOf, openSessionId, repliesOf, sendAndWait, textsOf } from './app-page-helpers.js';

const chromiumAvailable = await requireService('Chromium', checkChromium);

interface StoredMessage {
  id: string;
  role: string;
  content: string;
  model: string | null;
}

interface History {
  messages: StoredMessage[];
  summary: { content: string; covers_through_message_id: string } | null;
}

const titlePrompt = 'You name conversations';
const summaryPrompt = 'You keep the memory of a long conversation';

/** The system prompt of an Anthropic request (top-level) or an OpenAI one (its first message). */
function systemOf(body: any): string {
  if (typeof body?.system === 'string') return body.system;
  const first = body?.messages?.[0];
  return first?.role === 'system' && typeof first.content === 'string' ? first.content : '';
}

function lastUserText(body: any): string {
  const last = [...(body.messages as { role: string; content: unknown }[])].reverse().find((message) => message.role === 'user')!;
  if (typeof last.content === 'string') return last.content;
  return (last.content as { text?: string }[]).map((block) => block.text ?? '').join(' ');
}

const isTitleRequest = (request: RecordedRequest) => systemOf(request.body).startsWith(titlePrompt);

/**
 * The web app against the server's message tree, rename, automatic titles,
 * summaries and model choice, in one browser. The fake upstream numbers its
 * answers, so two versions of a reply read differently. The chat model is
 * an unknown name with a 1,000-token context window (DEFAULT_CONTEXT_WINDOW),
 * so a seeded long conversation gets a summary; short ones fit.
 */
describe.skipIf(!chromiumAvailable)('the web app’s branches, titles and summaries, against the server', () => {
  let fake: FakeUpstream;
  let server: TestServer;
  let browser: OpenedChromium;
  let page: Page;
  let answers = 0;

  beforeAll(async () => {
    fake = await FakeUpstream.start();
    fake.behaviour.reply = (body: any) => {
      const system = systemOf(body);
      if (system.startsWith(titlePrompt)) return 'Capital cities of Europe';
      if (system.startsWith(summaryPrompt)) return 'The user listed numbered facts to remember.';
      return `Answer ${++answers} to: ${lastUserText(body).slice(0, 40)}`;
    };
    server = await startTestServer({
      env: {
        ...rateLimitsOff,
        ANTHROPIC_API_KEY: 'sk-ant-test',
        ANTHROPIC_BASE_URL: fake.anthropicBaseUrl,
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: fake.openaiBaseUrl,
        PROVIDER_MAX_RETRIES: '0',
        CLAUDE_MODEL: 'anthropic/tiny-model',
        CLAUDE_MAX_TOKENS: '20',
        CHAT_SYSTEM_PROMPT: 'Be brief.',
        DEFAULT_CONTEXT_WINDOW: '1000',
        CHAT_SESSIONS_HISTORY_LIMIT: '200',
      },
    });
    browser = await openChromium();
    page = await browser.context.newPage();
    await page.goto(`${server.url}/ai-assistant`);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await fake?.close();
  });

  const api = async <T>(path: string, init?: RequestInit) => (await (await fetch(`${server.url}/api/v1${path}`, init)).json()) as T;
  const history = (sessionId: string) => api<History>(`/chat/messages/${sessionId}?limit=100`);
  const sessionTitle = async (sessionId: string) =>
    (await api<{ sessions: { id: string; title: string }[] }>('/chat/sessions?limit=100')).sessions.find(
      (session) => session.id === sessionId,
    )?.title;
  const message = (role: 'user' | 'assistant', index = 0) => page.locator(`#messages .message[data-role="${role}"]`).nth(index);
  const versionOf = (role: 'user' | 'assistant', index = 0) => message(role, index).locator('.version-count');
  const sidebarTitle = () => page.locator('#sidebar .session.active .session-open').textContent();
  let sessionId: string;

  it('replaces "New Chat" in the sidebar with the title the server gives after the first reply', async () => {
    await sendAndWait(page, 'What is the capital of France?');
    sessionId = await openSessionId(page);
    await repliesOf(page).toEqual(['Answer 1 to: What is the capital of France?']);
    await expect.poll(sidebarTitle, { timeout: 8_000 }).toBe('Capital cities of Europe');
    expect(await page.locator('#chat-title').textContent()).toBe('Capital cities of Europe');
    expect(await sessionTitle(sessionId)).toBe('Capital cities of Europe');
    // The title came from one call to the model, told what the conversation said.
    const titleRequests = fake.requests.filter(isTitleRequest);
    expect(titleRequests).toHaveLength(1);
    expect(lastUserText(titleRequests[0]!.body)).toContain('What is the capital of France?');
  });

  it('edits a question: the new reply shows, 2/2 switches back to the old question and reply, and a reload keeps the branch', async () => {
    await message('user').getByRole('button', { name: 'Edit' }).click();
    await page.getByRole('textbox', { name: 'Edit message' }).fill('What is the capital of Spain?');
    await page.getByRole('button', { name: 'Save and send' }).click();
    await textsOf(messagesOf(page, 'user')).toEqual(['What is the capital of Spain?']);
    await repliesOf(page).toEqual(['Answer 2 to: What is the capital of Spain?']);
    await expect.poll(() => versionOf('user').textContent()).toBe('2/2');
    // The reply to the edit is the only one on its branch: no switcher.
    await countOf(versionOf('assistant')).toBe(0);

    await message('user').getByRole('button', { name: 'Previous version' }).click();
    await textsOf(messagesOf(page, 'user')).toEqual(['What is the capital of France?']);
    await repliesOf(page).toEqual(['Answer 1 to: What is the capital of France?']);
    await expect.poll(() => versionOf('user').textContent()).toBe('1/2');
    expect((await history(sessionId)).messages.map((stored) => stored.content)).toEqual([
      'What is the capital of France?',
      'Answer 1 to: What is the capital of France?',
    ]);

    await page.reload();
    await textsOf(messagesOf(page, 'user')).toEqual(['What is the capital of France?']);
    await repliesOf(page).toEqual(['Answer 1 to: What is the capital of France?']);
    await expect.poll(() => versionOf('user').textContent()).toBe('1/2');
  });

  it('regenerates a reply: two versions of it, switchable, under the same question', async () => {
    await message('assistant').getByRole('button', { name: 'Regenerate' }).click();
    await repliesOf(page).toEqual(['Answer 3 to: What is the capital of France?']);
    await expect.poll(() => versionOf('assistant').textContent()).toBe('2/2');
    await textsOf(messagesOf(page, 'user')).toEqual(['What is the capital of France?']);
    expect(await versionOf('user').textContent()).toBe('1/2');

    await message('assistant').getByRole('button', { name: 'Previous version' }).click();
    await repliesOf(page).toEqual(['Answer 1 to: What is the capital of France?']);
    await expect.poll(() => versionOf('assistant').textContent()).toBe('1/2');
    await message('assistant').getByRole('button', { name: 'Next version' }).click();
    await repliesOf(page).toEqual(['Answer 3 to: What is the capital of France?']);
    const stored = (await history(sessionId)).messages;
    expect(stored.map((entry) => entry.content)).toEqual(['What is the capital of France?', 'Answer 3 to: What is the capital of France?']);
    // The regenerated reply answered the stored question: no second copy of it was sent.
    expect(
      fake.requests
        .filter((request) => !isTitleRequest(request))
        .at(-1)!
        .body.messages.map(lastUserTextOfOne),
    ).toEqual(['What is the capital of France?']);
  });

  it('renames a conversation in the sidebar, on the server too, and the name survives a reload', async () => {
    const renames: unknown[] = [];
    page.on('request', (request) => void (request.method() === 'PATCH' && renames.push(request.postDataJSON())));
    await page.getByRole('button', { name: 'Rename Capital cities of Europe' }).click();
    await page.getByRole('textbox', { name: 'New title' }).fill('Geography homework');
    await page.keyboard.press('Enter');
    await expect.poll(sidebarTitle).toBe('Geography homework');
    expect(await page.locator('#chat-title').textContent()).toBe('Geography homework');
    await expect.poll(() => sessionTitle(sessionId)).toBe('Geography homework');
    // Enter saves once; the field's blur as it closes sends nothing more.
    expect(renames).toEqual([{ title: 'Geography homework' }]);
    await page.reload();
    await expect.poll(sidebarTitle).toBe('Geography homework');
    await countOf(page.locator('#sidebar .session-open', { hasText: 'Capital cities of Europe' })).toBe(0);

    // Esc leaves the title as it was.
    await page.getByRole('button', { name: 'Rename Geography homework' }).click();
    await page.getByRole('textbox', { name: 'New title' }).fill('Not this one');
    await page.keyboard.press('Escape');
    await countOf(page.getByRole('textbox', { name: 'New title' })).toBe(0);
    expect(await sidebarTitle()).toBe('Geography homework');
    expect(renames).toHaveLength(1);
    expect(await sessionTitle(sessionId)).toBe('Geography homework');
  });

  it('shows which model wrote each reply after another model is picked', async () => {
    await page.getByRole('button', { name: 'New chat', exact: true }).click();
    await sendAndWait(page, 'first with the default model');
    const models = (await (await fetch(`${server.url}/v1/models`)).json()) as { data: { id: string }[] };
    const other = models.data.map((model) => model.id).find((id) => id.startsWith('gpt-'))!;
    await page.getByLabel('Model').selectOption(other);
    await sendAndWait(page, 'then with the picked model');
    await repliesOf(page).toEqual(['Answer 4 to: first with the default model', 'Answer 5 to: then with the picked model']);

    const stored = (await history(await openSessionId(page))).messages.filter((entry) => entry.role === 'assistant');
    expect(stored.map((entry) => entry.model)).toEqual([expect.stringContaining('tiny-model'), other]);
    const stats = page.locator('#messages .message[data-role="assistant"] .stats');
    await expect
      .poll(() => stats.allTextContents())
      .toEqual([expect.stringMatching(`^${stored[0]!.model} · `), expect.stringMatching(`^${other} · `)]);
    await page.getByLabel('Model').selectOption('');
  });

  it('shows the summary of a long conversation collapsed after the message it covers, and opens it on a click', async () => {
    const headers = { 'content-type': 'application/json' };
    const { id } = await api<{ id: string }>('/chat/sessions', { method: 'POST', headers, body: '{}' });
    const filler = 'the quick brown fox jumps over the lazy dog while the band plays on '.repeat(4);
    let seeded: History = { messages: [], summary: null };
    for (let turn = 1; seeded.summary === null && turn <= 30; turn++) {
      const content = `Turn ${turn}: remember the number ${turn * 7}, ${filler}`;
      const sent = await fetch(`${server.url}/api/v1/chat/messages`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ session_id: id, content }),
      });
      expect(sent.status).toBe(200);
      seeded = await history(id);
    }
    expect(seeded.summary).toMatchObject({ content: 'The user listed numbered facts to remember.' });

    await page.goto(`${server.url}/ai-assistant#/c/${id}`);
    const note = page.locator('#messages details.summary-note');
    await note.waitFor();
    await countOf(note).toBe(1);
    // Right after the last message it stands for.
    expect(await note.evaluate((element) => element.previousElementSibling?.id)).toBe(
      `message-${seeded.summary!.covers_through_message_id}`,
    );
    expect(await note.getAttribute('open')).toBeNull();
    const content = note.locator('p', { hasText: 'The user listed numbered facts to remember.' });
    expect(await content.isVisible()).toBe(false);
    await note.getByText('Earlier conversation summarized').click();
    await expect.poll(() => content.isVisible()).toBe(true);
    expect(await note.getAttribute('open')).not.toBeNull();

    // Editing the first question starts a branch the summary does not stand for: the note goes with the old branch.
    await message('user').getByRole('button', { name: 'Edit' }).click();
    await page.getByRole('textbox', { name: 'Edit message' }).fill('A fresh start');
    await page.getByRole('button', { name: 'Save and send' }).click();
    await textsOf(messagesOf(page, 'user')).toEqual(['A fresh start']);
    await countOf(note).toBe(0);
    await message('user').getByRole('button', { name: 'Previous version' }).click();
    await countOf(note).toBe(1);
  });
});

function lastUserTextOfOne(message: { content: unknown }): string {
  return lastUserText({ messages: [{ role: 'user', content: message.content }] });
}
