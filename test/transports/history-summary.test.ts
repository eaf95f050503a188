import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream, type RecordedRequest } from '../support/fake-upstream.js';
import { rateLimitsOff } from '../support/limits-off.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { signToken, testJwtSecret } from '../support/tokens.js';

/**
 * Long conversations on a model with a small context window: an unknown
 * model name (`anthropic/tiny-model`) gets DEFAULT_CONTEXT_WINDOW, here
 * 1,000 tokens, so a dozen turns of ~70 tokens overflow it.
 */

interface Summary {
  content: string;
  covers_through_message_id: string;
  created_at: string;
}

interface History {
  messages: { id: string; role: string; content: string }[];
  summary: Summary | null;
}

const summaryPrompt = 'You keep the memory of a long conversation';
const notePrefix = 'Summary of the earlier conversation: ';

function isSummaryRequest(request: RecordedRequest): boolean {
  return typeof request.body?.system === 'string' && request.body.system.startsWith(summaryPrompt);
}

/** The text of a Messages API message, its content a string or text blocks. */
function textOf(message: { content: unknown }): string {
  if (typeof message.content === 'string') return message.content;
  return (message.content as { text?: string }[]).map((block) => block.text ?? '').join('\n\n');
}

function turnMessage(turn: number): string {
  const filler = 'the quick brown fox jumps over the lazy dog while the band plays on '.repeat(4);
  return `Turn ${turn}: please remember the number ${turn * 7} and the colour number ${turn}, ${filler}`.trim();
}

/** What each turn sent upstream: the summary requests made during it and the turn's own request. */
interface SentTurn {
  summaryRequests: RecordedRequest[];
  request: RecordedRequest;
}

describe('summaries of long conversations', () => {
  let fake: FakeUpstream;
  let server: TestServer;
  let token: string;

  beforeAll(async () => {
    fake = await FakeUpstream.start();
    fake.behaviour.reply = (body: any) => {
      if (typeof body.system === 'string' && body.system.startsWith(summaryPrompt)) {
        return `Summary #${fake.requests.filter(isSummaryRequest).length}`;
      }
      return `Noted: ${textOf(body.messages.at(-1)).slice(0, 8)}`;
    };
    server = await startTestServer({
      env: {
        ...rateLimitsOff,
        JWT_SECRET: testJwtSecret,
        ANTHROPIC_API_KEY: 'sk-ant-test',
        ANTHROPIC_BASE_URL: fake.anthropicBaseUrl,
        CLAUDE_MODEL: 'anthropic/tiny-model',
        CLAUDE_MAX_TOKENS: '20',
        CHAT_SYSTEM_PROMPT: 'Be brief.',
        DEFAULT_CONTEXT_WINDOW: '1000',
        // Enough history is read for the window, not the 20 messages' default, to be the limit.
        CHAT_SESSIONS_HISTORY_LIMIT: '200',
        AUTO_TITLES: 'false',
      },
    });
    token = `Bearer ${await signToken('dora')}`;
  });
  afterAll(async () => {
    await server?.close();
    await fake?.close();
  });

  async function call(method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: { authorization: token, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }

  async function newSession(): Promise<string> {
    return ((await (await call('POST', '/chat/sessions', {})).json()) as { id: string }).id;
  }

  async function sendTurn(sessionId: string, turn: number): Promise<SentTurn> {
    const before = fake.requests.length;
    const response = await call('POST', '/chat/messages', { session_id: sessionId, content: turnMessage(turn) });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'complete', content: expect.stringContaining(`Turn ${turn}`) });
    const sent = fake.requests.slice(before);
    return { summaryRequests: sent.filter(isSummaryRequest), request: sent.filter((request) => !isSummaryRequest(request)).at(-1)! };
  }

  async function history(sessionId: string): Promise<History> {
    return (await (await call('GET', `/chat/messages/${sessionId}?limit=100`)).json()) as History;
  }

  /** The summary a turn's request opened with, if any. */
  function noteOf(sent: SentTurn): string | undefined {
    const first = textOf(sent.request.body.messages[0]);
    return first.startsWith(notePrefix) ? first.slice(notePrefix.length).split('\n\n')[0] : undefined;
  }

  it('sends a summary and the newest messages once the history overflows, reuses it while it fits, then folds more into a new one', async () => {
    const sessionId = await newSession();
    const turns: SentTurn[] = [];
    for (let turn = 1; turn <= 30; turn++) turns.push(await sendTurn(sessionId, turn));

    const firstSummarized = turns.findIndex((sent) => sent.summaryRequests.length > 0);
    expect(firstSummarized).toBeGreaterThan(1);
    // Until then, every earlier message went along, and no summary was asked for.
    for (const [index, sent] of turns.slice(0, firstSummarized).entries()) {
      expect(noteOf(sent)).toBeUndefined();
      expect(sent.request.body.messages).toHaveLength(2 * index + 1);
    }
    const first = turns[firstSummarized]!;
    expect(first.summaryRequests).toHaveLength(1);
    // The same model writes the summary, from the messages left out.
    expect(first.summaryRequests[0]!.body.model).toBe('tiny-model');
    expect(textOf(first.summaryRequests[0]!.body.messages[0])).toContain(turnMessage(1));
    expect(noteOf(first)).toBe('Summary #1');
    expect(first.request.body.messages.length).toBeLessThan(2 * firstSummarized + 1);
    const firstSent = JSON.stringify(first.request.body.messages);
    expect(firstSent).not.toContain(turnMessage(1));
    expect(textOf(first.request.body.messages.at(-1))).toContain(turnMessage(firstSummarized + 1));

    // The next turn reuses the stored summary: no second call.
    const reused = turns[firstSummarized + 1]!;
    expect(reused.summaryRequests).toHaveLength(0);
    expect(noteOf(reused)).toBe('Summary #1');

    // More falls out later: a new summary from the old one and the newly left-out messages.
    const secondSummarized = turns.findIndex((sent, index) => index > firstSummarized && sent.summaryRequests.length > 0);
    expect(secondSummarized).toBeGreaterThan(firstSummarized + 1);
    const folded = textOf(turns[secondSummarized]!.summaryRequests[0]!.body.messages[0]);
    expect(folded).toContain('Summary so far:\nSummary #1');
    expect(folded).not.toContain(turnMessage(1));
    expect(noteOf(turns[secondSummarized]!)).toBe('Summary #2');
    const summaryCalls = turns.reduce((count, sent) => count + sent.summaryRequests.length, 0);
    expect(summaryCalls).toBeLessThan(turns.length - firstSummarized);

    // GET messages shows the stored summary and where it sits; the next request starts right after it.
    const { messages, summary } = await history(sessionId);
    const latest = `Summary #${summaryCalls}`;
    expect(summary).toEqual({ content: latest, covers_through_message_id: expect.any(String), created_at: expect.any(String) });
    const covered = messages.findIndex((message) => message.id === summary!.covers_through_message_id);
    expect(covered).toBeGreaterThan(0);
    const next = await sendTurn(sessionId, 31);
    expect(next.summaryRequests).toHaveLength(0);
    expect(noteOf(next)).toBe(latest);
    const sent = JSON.stringify(next.request.body.messages);
    expect(sent).toContain(JSON.stringify(messages[covered + 1]!.content).slice(1, -1));
    expect(sent).not.toContain(JSON.stringify(messages[covered]!.content).slice(1, -1));
  });

  it('never sends a summary of another branch: after an edit above it, the branch is sent whole, and its own summary starts afresh', async () => {
    const sessionId = await newSession();
    let turn = 0;
    let summarized: Summary | null = null;
    while (summarized === null && turn < 40) {
      await sendTurn(sessionId, ++turn);
      summarized = (await history(sessionId)).summary;
    }
    expect(summarized).not.toBeNull();
    const oldBranch = (await history(sessionId)).messages;
    const coveredAt = oldBranch.findIndex((message) => message.id === summarized!.covers_through_message_id);
    // The last question the summary stands for: editing it leaves the summary's messages off the new branch.
    const edited = oldBranch.slice(0, coveredAt + 1).findLast((message) => message.role === 'user')!;
    const editedAt = oldBranch.indexOf(edited);
    const editedText = (n: number) => `Edited ${n}: forget all that, the number is now ${n * 11}`;

    const before = fake.requests.length;
    const response = await call('POST', '/chat/messages', { session_id: sessionId, content: editedText(1), edit_of: edited.id });
    expect(response.status).toBe(200);
    const editRequests = fake.requests.slice(before);
    expect(editRequests.filter(isSummaryRequest)).toHaveLength(0);
    const editTurn = editRequests.at(-1)!;
    // The branch above the edit fits: it goes whole, without the other branch's summary or anything after the edited question.
    const sent = editTurn.body.messages.map(textOf);
    expect(sent.some((text: string) => text.startsWith(notePrefix))).toBe(false);
    expect(sent).toEqual([...oldBranch.slice(0, editedAt).map((message) => message.content), editedText(1)]);
    expect(JSON.stringify(editTurn.body)).not.toContain(summarized!.content);
    // The session reads the new branch, whose messages the stored summary does not cover.
    const newBranch = (await history(sessionId)).messages;
    expect(newBranch.map((message) => message.content).at(-2)).toBe(editedText(1));
    expect(newBranch.some((message) => message.id === summarized!.covers_through_message_id)).toBe(false);

    // Until the new branch overflows too, no summary; then one of its own messages, not folded into the other branch's.
    let next: SentTurn | undefined;
    for (let n = 2; n <= 40 && next === undefined; n++) {
      const start = fake.requests.length;
      expect((await call('POST', '/chat/messages', { session_id: sessionId, content: editedText(n) })).status).toBe(200);
      const requests = fake.requests.slice(start);
      const turnRequest = requests.filter((request) => !isSummaryRequest(request)).at(-1)!;
      const sentTurn = { summaryRequests: requests.filter(isSummaryRequest), request: turnRequest };
      if (sentTurn.summaryRequests.length > 0) next = sentTurn;
      else expect(noteOf(sentTurn)).toBeUndefined();
    }
    expect(next).toBeDefined();
    const quoted = textOf(next!.summaryRequests[0]!.body.messages[0]);
    expect(quoted).not.toContain('Summary so far');
    expect(quoted).not.toContain(summarized!.content);
    expect(quoted).toContain(turnMessage(1));
    expect(quoted).toContain(editedText(1));
    expect(quoted).not.toContain(edited.content);
    expect(noteOf(next!)).not.toBe(summarized!.content);
  });

  it('falls back to leaving the oldest messages out when the summary call fails, and the turn still completes', async () => {
    const reference = await newSession();
    const referenceTurns: SentTurn[] = [];
    for (let turn = 1; referenceTurns.every((sent) => sent.summaryRequests.length === 0) && turn <= 40; turn++) {
      referenceTurns.push(await sendTurn(reference, turn));
    }
    const overflowTurn = referenceTurns.length;

    const sessionId = await newSession();
    for (let turn = 1; turn < overflowTurn; turn++) await sendTurn(sessionId, turn);
    // The same conversation overflows at the same turn: its first upstream request is the summary's, refused.
    fake.failNext({ status: 400 });
    const failed = await sendTurn(sessionId, overflowTurn);
    expect(failed.summaryRequests).toHaveLength(1);
    expect(noteOf(failed)).toBeUndefined();
    const sent = JSON.stringify(failed.request.body.messages);
    expect(sent).not.toContain(turnMessage(1));
    expect(sent).toContain(turnMessage(overflowTurn));
    expect((await history(sessionId)).summary).toBeNull();
  });

  it('answers summary null for a conversation that fits', async () => {
    const sessionId = await newSession();
    const sent = await sendTurn(sessionId, 1);
    expect(sent.summaryRequests).toHaveLength(0);
    expect(await history(sessionId)).toMatchObject({ summary: null });
  });
});

describe('summaries by the demo model', () => {
  let server: TestServer;
  let token: string;

  beforeAll(async () => {
    server = await startTestServer({
      env: {
        ...rateLimitsOff,
        JWT_SECRET: testJwtSecret,
        DEFAULT_CONTEXT_WINDOW: '1000',
        CLAUDE_MAX_TOKENS: '20',
        CHAT_SESSIONS_HISTORY_LIMIT: '200',
        AUTO_TITLES: 'false',
      },
    });
    token = `Bearer ${await signToken('erin')}`;
  });
  afterAll(async () => {
    await server?.close();
  });

  async function summaryAfterTurns(turns: number): Promise<Summary | null> {
    const headers = { authorization: token, 'content-type': 'application/json' };
    const created = await fetch(`${server.url}/api/v1/chat/sessions`, { method: 'POST', headers, body: '{}' });
    const { id } = (await created.json()) as { id: string };
    for (let turn = 1; turn <= turns; turn++) {
      const response = await fetch(`${server.url}/api/v1/chat/messages`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ session_id: id, content: turnMessage(turn) }),
      });
      expect(response.status, await response.clone().text()).toBe(200);
    }
    const history = await fetch(`${server.url}/api/v1/chat/messages/${id}?limit=100`, { headers: { authorization: token } });
    return ((await history.json()) as History).summary;
  }

  it('writes the same summary of the same conversation, from what each message began with', async () => {
    const [first, second] = [await summaryAfterTurns(8), await summaryAfterTurns(8)];
    expect(first?.content).toMatch(/^User said "Turn 1: please remember the number 7/);
    expect(first?.content).toContain('Assistant said "This is Parley\'s built-in demo model');
    expect(second?.content).toBe(first?.content);
  });
});
