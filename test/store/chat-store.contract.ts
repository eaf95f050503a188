/**
 * The behaviour every ChatStore must have. sqlite-chat-store.test.ts and
 * postgres-chat-store.test.ts run it against a real database each.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type {
  BeginTurnResult,
  ChatStore,
  ConversationTarget,
  FinishTurnInput,
  StoredMessage,
  TurnBranch,
} from '../../src/store/chat-store.js';

export interface ContractSubject {
  store: ChatStore;
  /** Counts a conversation's message rows straight from the table, bypassing the store. */
  countMessageRows(conversationId: string): Promise<number>;
  /** Closes everything and deletes the run's data. */
  dispose(): Promise<void>;
}

/** Defines the contract tests inside the calling `describe`; `open` runs once, before them. */
export function defineChatStoreContract(open: () => Promise<ContractSubject>): void {
  let subject: ContractSubject;
  const store = () => subject.store;

  beforeAll(async () => {
    subject = await open();
    await subject.store.migrate();
  });
  afterAll(async () => {
    await subject?.dispose();
  });

  defineTurnTests(store);
  defineHistoryTests(store);
  defineFinishTurnTests(store);
  defineReplyInProgressTests(store);
  defineListingTests(store);
  defineDeletionTests(store, () => subject);
  defineConcurrencyTests(store, () => subject);
  defineBudgetAndKeyTests(store);
  defineImportTests(store);
  defineSearchTests(store);
  defineShareLinkTests(store);
  defineAccountTests(store);
  defineRenameAndSummaryTests(store);
  defineMessageTreeTests(store);
  defineAdminTests(store);
}

/** JWT subjects are arbitrary text, not UUIDs. */
function newUserId(): string {
  return `auth0|${randomUUID()}`;
}

const testReply = { model: 'gpt-test', provider: 'fake' };

function newTarget(): ConversationTarget {
  return { kind: 'new', create: { surface: 'openai' } };
}

function keyed(clientKey: string): ConversationTarget {
  return { kind: 'keyed', clientKey, create: { surface: 'chat-sessions', title: 'Keyed' } };
}

function begin(store: ChatStore, userId: string, target: ConversationTarget, content = 'Hello', historyLimit = 20) {
  return store.beginTurn({ userId, target, content, tokens: 3, historyLimit, reply: testReply });
}

function finish(store: ChatStore, turn: BeginTurnResult, overrides: Partial<FinishTurnInput> = {}) {
  return store.finishTurn({
    userId: turn.conversation.userId,
    conversationId: turn.conversation.id,
    messageId: turn.replyId,
    content: 'Hi there',
    status: 'complete',
    model: 'gpt-test',
    provider: 'fake',
    promptTokens: 10,
    completionTokens: 5,
    timeToFirstTokenMs: 120,
    latencyMs: 480,
    ...overrides,
  });
}

/** Runs `turns` full turns one after another in one conversation, starting a new one. */
async function converse(store: ChatStore, userId: string, turns: number): Promise<string> {
  let target = newTarget();
  for (let turn = 1; turn <= turns; turn += 1) {
    const started = await begin(store, userId, target, `question ${turn}`);
    await finish(store, started, { content: `answer ${turn}` });
    target = { kind: 'existing', conversationId: started.conversation.id };
  }
  return target.kind === 'existing' ? target.conversationId : '';
}

function contents(messages: StoredMessage[]): string[] {
  return messages.map((message) => message.content);
}

function defineTurnTests(store: () => ChatStore): void {
  it('migrating again changes nothing and keeps the data', async () => {
    const userId = newUserId();
    const turn = await begin(store(), userId, newTarget());
    await store().migrate();
    await store().migrate();
    expect(await store().getConversation(userId, turn.conversation.id)).toEqual(turn.conversation);
    await store().ping();
  });

  it('a new target creates a conversation holding the stored user message', async () => {
    const userId = newUserId();
    const turn = await store().beginTurn({
      userId,
      target: { kind: 'new', create: { surface: 'assistant', title: 'Trip', mode: 'travel', systemPrompt: 'Be brief', tags: ['a', 'b'] } },
      content: 'Plan a trip',
      tokens: 7,
      historyLimit: 20,
      reply: testReply,
    });
    expect(turn.created).toBe(true);
    expect(turn.history).toEqual([]);
    expect(turn.conversation).toMatchObject({
      userId,
      surface: 'assistant',
      clientKey: null,
      title: 'Trip',
      mode: 'travel',
      systemPrompt: 'Be brief',
      tags: ['a', 'b'],
      status: 'active',
      messageCount: 1,
    });
    expect(turn.conversation.lastMessageAt).toBe(turn.userMessage.createdAt);
    expect(turn.userMessage).toEqual({
      id: expect.any(String),
      conversationId: turn.conversation.id,
      userId,
      role: 'user',
      content: 'Plan a trip',
      status: 'complete',
      tokens: 7,
      model: null,
      provider: null,
      promptTokens: null,
      completionTokens: null,
      timeToFirstTokenMs: null,
      latencyMs: null,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      parentId: null,
    });
  });

  it('a keyed target creates the conversation once and finds it on later turns', async () => {
    const userId = newUserId();
    const first = await begin(store(), userId, keyed('session-1'), 'first');
    const second = await begin(store(), userId, keyed('session-1'), 'second');
    expect(first.created).toBe(true);
    expect(first.conversation.clientKey).toBe('session-1');
    expect(second.created).toBe(false);
    expect(second.conversation.id).toBe(first.conversation.id);
    expect(second.conversation.messageCount).toBe(2);
    expect(contents(second.history)).toEqual(['first']);
  });

  it('two users with the same client key get separate conversations', async () => {
    const mine = await begin(store(), newUserId(), keyed('shared-key'));
    const theirs = await begin(store(), newUserId(), keyed('shared-key'));
    expect(theirs.created).toBe(true);
    expect(theirs.conversation.id).not.toBe(mine.conversation.id);
  });

  it('an existing target continues that conversation', async () => {
    const userId = newUserId();
    const first = await begin(store(), userId, newTarget(), 'first');
    const next = await begin(store(), userId, { kind: 'existing', conversationId: first.conversation.id }, 'next');
    expect(next.created).toBe(false);
    expect(next.conversation.id).toBe(first.conversation.id);
    expect(next.conversation.messageCount).toBe(2);
    expect(next.userMessage.id > first.userMessage.id).toBe(true);
  });

  it("an existing target that is another user's conversation, or no conversation, is not found", async () => {
    const owner = await begin(store(), newUserId(), newTarget());
    const intruder = newUserId();
    await expect(begin(store(), intruder, { kind: 'existing', conversationId: owner.conversation.id })).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(begin(store(), intruder, { kind: 'existing', conversationId: uuidv7() })).rejects.toMatchObject({
      code: 'not_found',
    });
    expect((await store().getConversation(owner.conversation.userId, owner.conversation.id))?.messageCount).toBe(1);
  });
}

function defineHistoryTests(store: () => ChatStore): void {
  it('history holds the most recent earlier messages, oldest first, up to the limit', async () => {
    const userId = newUserId();
    const conversationId = await converse(store(), userId, 3);
    const existing: ConversationTarget = { kind: 'existing', conversationId };
    const limited = await begin(store(), userId, existing, 'question 4', 4);
    expect(contents(limited.history)).toEqual(['question 2', 'answer 2', 'question 3', 'answer 3']);
    const none = await begin(store(), userId, existing, 'question 5', 0);
    expect(none.history).toEqual([]);
  });

  it('failed and empty replies are left out of history', async () => {
    const userId = newUserId();
    const started = await begin(store(), userId, newTarget(), 'first');
    await finish(store(), started, { status: 'failed', content: 'partial before the failure' });
    const retried = await begin(store(), userId, { kind: 'existing', conversationId: started.conversation.id }, 'second');
    await finish(store(), retried, { status: 'interrupted', content: '' });
    const third = await begin(store(), userId, { kind: 'existing', conversationId: started.conversation.id }, 'third');
    await finish(store(), third, { status: 'interrupted', content: 'cut short' });
    const last = await begin(store(), userId, { kind: 'existing', conversationId: started.conversation.id }, 'last');
    expect(contents(last.history)).toEqual(['first', 'second', 'third', 'cut short']);
    expect(last.conversation.messageCount).toBe(7);
  });
}

function defineFinishTurnTests(store: () => ChatStore): void {
  it('finishTurn stores every field of the reply', async () => {
    const turn = await begin(store(), newUserId(), newTarget());
    const messageId = turn.replyId;
    const reply = await finish(store(), turn, { messageId, content: 'Answer', promptTokens: 21, completionTokens: 8 });
    const expected: StoredMessage = {
      id: messageId,
      conversationId: turn.conversation.id,
      userId: turn.conversation.userId,
      role: 'assistant',
      content: 'Answer',
      status: 'complete',
      tokens: 8,
      model: 'gpt-test',
      provider: 'fake',
      promptTokens: 21,
      completionTokens: 8,
      timeToFirstTokenMs: 120,
      latencyMs: 480,
      createdAt: reply.createdAt,
      parentId: turn.userMessage.id,
    };
    expect(reply).toEqual(expected);
    const stored = await store().listMessages(turn.conversation.userId, turn.conversation.id, { page: 1, limit: 10 });
    expect(stored.items).toEqual([turn.userMessage, expected]);
    const conversation = await store().getConversation(turn.conversation.userId, turn.conversation.id);
    expect(conversation).toMatchObject({ messageCount: 2, updatedAt: reply.createdAt, lastMessageAt: reply.createdAt });
  });

  it("a reply's tool calls and the tool result that answers them read back whole, in listings and in history", async () => {
    const userId = newUserId();
    const toolCalls = [
      { id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
      { id: 'call_2', name: 'get_time', arguments: '{"zone":"CET"}' },
    ];
    const asked = await begin(store(), userId, newTarget(), 'Weather and time in Paris?');
    const reply = await finish(store(), asked, { content: '', toolCalls });
    expect(reply).toMatchObject({ role: 'assistant', content: '', toolCalls });
    const conversation: ConversationTarget = { kind: 'existing', conversationId: asked.conversation.id };
    const answered = await store().beginTurn({
      userId,
      target: conversation,
      content: '18C',
      tokens: 1,
      toolCallId: 'call_1',
      historyLimit: 20,
      reply: testReply,
    });
    expect(answered.userMessage).toMatchObject({ role: 'tool', content: '18C', toolCallId: 'call_1' });
    expect(answered.history[1]).toEqual(reply);
    await finish(store(), answered, { content: 'It is 18C' });
    const listed = await store().listMessages(userId, asked.conversation.id, { page: 1, limit: 10 });
    expect(listed.items.map((message) => [message.role, message.toolCalls, message.toolCallId])).toEqual([
      ['user', undefined, undefined],
      ['assistant', toolCalls, undefined],
      ['tool', undefined, 'call_1'],
      ['assistant', undefined, undefined],
    ]);
  });

  it('a reply without a first-token time stores null for it', async () => {
    const turn = await begin(store(), newUserId(), newTarget());
    const reply = await finish(store(), turn, { status: 'failed', content: '', timeToFirstTokenMs: null });
    const stored = await store().listMessages(turn.conversation.userId, turn.conversation.id, { page: 1, limit: 10 });
    expect(stored.items[1]).toEqual(reply);
    expect(reply.timeToFirstTokenMs).toBeNull();
  });

  it("finished turns add up in the user's usage, which is all zeros for an unseen user", async () => {
    const userId = newUserId();
    expect(await store().getUsage(userId)).toEqual({
      promptTokens: 0,
      completionTokens: 0,
      totalTokens: 0,
      conversationsCount: 0,
      messagesCount: 0,
      lastUsedAt: null,
    });
    await converse(store(), userId, 2);
    const other = await begin(store(), userId, { kind: 'new', create: { surface: 'voice' } });
    const reply = await finish(store(), other, { promptTokens: 100, completionTokens: 50 });
    expect(await store().getUsage(userId)).toEqual({
      promptTokens: 120,
      completionTokens: 60,
      totalTokens: 180,
      conversationsCount: 2,
      messagesCount: 6,
      lastUsedAt: reply.createdAt,
    });
  });

  it('finishTurn for a conversation deleted meanwhile is not found', async () => {
    const turn = await begin(store(), newUserId(), newTarget());
    await store().deleteConversation(turn.conversation.userId, turn.conversation.id);
    await expect(finish(store(), turn)).rejects.toMatchObject({ code: 'not_found' });
    expect((await store().getUsage(turn.conversation.userId)).totalTokens).toBe(0);
  });

  it("finishTurn into another user's conversation is not found and stores nothing", async () => {
    const turn = await begin(store(), newUserId(), newTarget());
    const intruderId = newUserId();
    await begin(store(), intruderId, newTarget());
    const intruderTurn = { ...turn, conversation: { ...turn.conversation, userId: intruderId } };
    await expect(finish(store(), intruderTurn)).rejects.toMatchObject({ code: 'not_found' });
    expect((await store().getConversation(turn.conversation.userId, turn.conversation.id))?.messageCount).toBe(1);
    expect((await store().getUsage(intruderId)).totalTokens).toBe(0);
  });
}

function defineReplyInProgressTests(store: () => ChatStore): void {
  const page = { page: 1, limit: 50 };
  /** A moment no heartbeat can be as recent as: every instance counts as silent. */
  const everyoneSilent = () => new Date(Date.now() + 60_000);

  it('a reply in progress is stored at the turn start but not sent as history', async () => {
    const userId = newUserId();
    const turn = await begin(store(), userId, newTarget(), 'first');
    expect(turn.replyId > turn.userMessage.id).toBe(true);
    await store().checkpointReply({ messageId: turn.replyId, content: 'half an answ', promptTokens: 9 });
    const next = await begin(store(), userId, { kind: 'existing', conversationId: turn.conversation.id }, 'second');
    expect(contents(next.history)).toEqual(['first']);
    expect(next.conversation.messageCount).toBe(2);
  });

  it('a reply ends once: finishing it again is not found and bills nothing more', async () => {
    const userId = newUserId();
    const turn = await begin(store(), userId, newTarget());
    await finish(store(), turn, { promptTokens: 10, completionTokens: 5 });
    await expect(finish(store(), turn, { promptTokens: 100, completionTokens: 50 })).rejects.toMatchObject({ code: 'not_found' });
    expect((await store().getTokenUsage(userId)).lifetimeTokens).toBe(15);
    expect((await store().listMessages(userId, turn.conversation.id, page)).items).toHaveLength(2);
  });

  it("lists a user's tokens per day from a given day on, today included", async () => {
    const userId = newUserId();
    const turn = await begin(store(), userId, newTarget());
    await finish(store(), turn, { promptTokens: 10, completionTokens: 5 });
    await store().recordUsage(userId, 7);
    const today = new Date().toISOString().slice(0, 10);
    expect(await store().listDailyUsage(userId, '2000-01-01')).toEqual([{ day: today, tokens: 22 }]);
    expect(await store().listDailyUsage(userId, '2999-01-01')).toEqual([]);
    expect(await store().listDailyUsage(newUserId(), '2000-01-01')).toEqual([]);
  });

  it('bills usage outside a turn to a new or known user, lifetime and today', async () => {
    const userId = newUserId();
    await store().recordUsage(userId, 7);
    expect(await store().getTokenUsage(userId)).toEqual({ lifetimeTokens: 7, todayTokens: 7 });
    const turn = await begin(store(), userId, newTarget());
    await finish(store(), turn, { promptTokens: 10, completionTokens: 5 });
    await store().recordUsage(userId, 3);
    expect(await store().getTokenUsage(userId)).toEqual({ lifetimeTokens: 25, todayTokens: 25 });
    // A model call outside a turn (an automatic title) bills its completion tokens as such.
    await store().recordUsage(userId, 4, 2);
    expect(await store().getTokenUsage(userId)).toEqual({ lifetimeTokens: 31, todayTokens: 31 });
    expect(await store().getUsage(userId)).toMatchObject({ promptTokens: 24, completionTokens: 7, totalTokens: 31 });
  });

  it('lists a reply in progress with its checkpointed text, counted once in the total, and then as it ended', async () => {
    const userId = newUserId();
    const turn = await begin(store(), userId, newTarget(), 'still answering?');
    await store().checkpointReply({ messageId: turn.replyId, content: 'So far', promptTokens: 3 });
    const during = await store().listMessages(userId, turn.conversation.id, page);
    expect(during.items.map(({ role, status, content }) => ({ role, status, content }))).toEqual([
      { role: 'user', status: 'complete', content: 'still answering?' },
      { role: 'assistant', status: 'in_progress', content: 'So far' },
    ]);
    expect(during.total).toBe(2);
    await finish(store(), turn, { content: 'So far, so good' });
    const after = await store().listMessages(userId, turn.conversation.id, page);
    expect(after.items.map(({ status, content }) => ({ status, content }))).toEqual([
      { status: 'complete', content: 'still answering?' },
      { status: 'complete', content: 'So far, so good' },
    ]);
    expect(after.total).toBe(2);
  });

  it("a live instance's replies in progress are left alone by the sweep", async () => {
    const userId = newUserId();
    const turn = await begin(store(), userId, newTarget());
    await store().recordHeartbeat();
    await store().finishAbandonedReplies(new Date(Date.now() - 60_000));
    const reply = await finish(store(), turn, { content: 'whole answer' });
    expect(reply.status).toBe('complete');
  });

  it('the sweep ends abandoned replies as interrupted with their checkpointed text, billed once', async () => {
    const userId = newUserId();
    const turn = await begin(store(), userId, newTarget(), 'tell me a story');
    await store().checkpointReply({ messageId: turn.replyId, content: 'Once upon a time', promptTokens: 12 });
    const untouched = await begin(store(), userId, newTarget(), 'never answered');
    const ended = await store().finishAbandonedReplies(everyoneSilent());
    expect(ended.map((reply) => reply.id)).toEqual(expect.arrayContaining([turn.replyId, untouched.replyId]));
    expect(ended.find((reply) => reply.id === turn.replyId)).toMatchObject({ status: 'interrupted', content: 'Once upon a time' });
    const [, swept] = (await store().listMessages(userId, turn.conversation.id, page)).items;
    expect(swept).toMatchObject({
      id: turn.replyId,
      role: 'assistant',
      status: 'interrupted',
      content: 'Once upon a time',
      promptTokens: 12,
    });
    expect(swept!.completionTokens).toBeGreaterThan(0);
    const [, empty] = (await store().listMessages(userId, untouched.conversation.id, page)).items;
    expect(empty).toMatchObject({ id: untouched.replyId, status: 'interrupted', content: '', promptTokens: 0, completionTokens: 0 });
    const billed = 12 + swept!.completionTokens!;
    expect(await store().getTokenUsage(userId)).toEqual({ lifetimeTokens: billed, todayTokens: billed });
    // The turn itself ending late, or a second sweep, changes nothing.
    await expect(finish(store(), turn)).rejects.toMatchObject({ code: 'not_found' });
    expect((await store().finishAbandonedReplies(everyoneSilent())).map((reply) => reply.id)).not.toContain(turn.replyId);
    expect((await store().getTokenUsage(userId)).lifetimeTokens).toBe(billed);
    expect((await store().getConversation(userId, turn.conversation.id))?.messageCount).toBe(2);
    // A checkpoint after the end changes nothing either.
    await store().checkpointReply({ messageId: turn.replyId, content: 'rewritten', promptTokens: 1 });
    expect((await store().listMessages(userId, turn.conversation.id, page)).items[1]?.content).toBe('Once upon a time');
    await store().recordHeartbeat();
  });
}

function defineListingTests(store: () => ChatStore): void {
  it('conversations are listed most recently updated first, a page at a time, with the total', async () => {
    const userId = newUserId();
    const created = [];
    for (let index = 0; index < 5; index += 1) {
      created.push(await store().createConversation(userId, { surface: 'openai', title: `chat ${index}` }));
    }
    // A later millisecond, so the turn's update cannot tie with the creations.
    await delay(5);
    await begin(store(), userId, { kind: 'existing', conversationId: created[0]!.id });
    const titles = async (page: number) =>
      (await store().listConversations(userId, 'openai', { page, limit: 2 })).items.map((item) => item.title);
    expect(await titles(1)).toEqual(['chat 0', 'chat 4']);
    expect(await titles(2)).toEqual(['chat 3', 'chat 2']);
    expect(await titles(3)).toEqual(['chat 1']);
    expect(await titles(4)).toEqual([]);
    expect((await store().listConversations(userId, 'openai', { page: 3, limit: 2 })).total).toBe(5);
  });

  it('each surface lists only its own conversations', async () => {
    const userId = newUserId();
    const openai = await store().createConversation(userId, { surface: 'openai' });
    const voice = await store().createConversation(userId, { surface: 'voice', tags: ['spoken'] });
    expect(await store().listConversations(userId, 'openai', { page: 1, limit: 10 })).toEqual({ items: [openai], total: 1 });
    expect(await store().listConversations(userId, 'voice', { page: 1, limit: 10 })).toEqual({ items: [voice], total: 1 });
    expect(await store().listConversations(userId, 'assistant', { page: 1, limit: 10 })).toEqual({ items: [], total: 0 });
    expect(await store().listConversations(newUserId(), 'openai', { page: 1, limit: 10 })).toEqual({ items: [], total: 0 });
  });

  it('a created conversation starts empty and a duplicate client key is an invalid request', async () => {
    const userId = newUserId();
    const conversation = await store().createConversation(userId, { surface: 'stream-v2', clientKey: 'abc' });
    expect(conversation).toMatchObject({ messageCount: 0, lastMessageAt: null, clientKey: 'abc', tags: [] });
    expect(await store().getConversation(userId, conversation.id)).toEqual(conversation);
    await expect(store().createConversation(userId, { surface: 'stream-v2', clientKey: 'abc' })).rejects.toMatchObject({
      code: 'invalid_request',
    });
    const keyedTurn = await begin(store(), userId, { kind: 'keyed', clientKey: 'abc', create: { surface: 'stream-v2' } });
    expect(keyedTurn.conversation.id).toBe(conversation.id);
  });

  it('messages are listed oldest first, a page at a time, with the total', async () => {
    const userId = newUserId();
    const conversationId = await converse(store(), userId, 3);
    const page = (number: number) => store().listMessages(userId, conversationId, { page: number, limit: 4 });
    const first = await page(1);
    expect(contents(first.items)).toEqual(['question 1', 'answer 1', 'question 2', 'answer 2']);
    expect(first.total).toBe(6);
    expect(contents((await page(2)).items)).toEqual(['question 3', 'answer 3']);
    await expect(store().listMessages(newUserId(), conversationId, { page: 1, limit: 4 })).rejects.toMatchObject({
      code: 'not_found',
    });
  });
}

function defineDeletionTests(store: () => ChatStore, subject: () => ContractSubject): void {
  it('deleting a conversation deletes its messages', async () => {
    const userId = newUserId();
    const conversationId = await converse(store(), userId, 2);
    expect(await subject().countMessageRows(conversationId)).toBe(4);
    expect(await store().deleteConversation(userId, conversationId)).toBe(true);
    expect(await store().getConversation(userId, conversationId)).toBeUndefined();
    expect(await subject().countMessageRows(conversationId)).toBe(0);
    expect(await store().deleteConversation(userId, conversationId)).toBe(false);
  });

  it("forgets guests' conversations idle since the cutoff and the guests left with none, never a signed-in user's", async () => {
    const idleGuest = `anonymous:${randomUUID()}`;
    const idle = await converse(store(), idleGuest, 2);
    const signedIn = newUserId();
    const kept = await converse(store(), signedIn, 1);
    expect((await store().getTokenUsage(idleGuest)).lifetimeTokens).toBeGreaterThan(0);
    await delay(20);
    const cutoff = new Date();
    await delay(20);
    const activeGuest = `anonymous:${randomUUID()}`;
    const active = await converse(store(), activeGuest, 1);

    expect(await store().forgetIdleGuests(cutoff)).toBe(1);

    expect(await store().getConversation(idleGuest, idle)).toBeUndefined();
    expect(await subject().countMessageRows(idle)).toBe(0);
    // The guest's user row went too: its usage is gone.
    expect((await store().getTokenUsage(idleGuest)).lifetimeTokens).toBe(0);
    expect(await store().getConversation(signedIn, kept)).toBeDefined();
    expect(await store().getConversation(activeGuest, active)).toBeDefined();
    expect(await subject().countMessageRows(active)).toBe(2);
    expect(await store().forgetIdleGuests(cutoff)).toBe(0);
  });

  it("deleting another user's conversation answers false and keeps it", async () => {
    const userId = newUserId();
    const conversationId = await converse(store(), userId, 1);
    expect(await store().deleteConversation(newUserId(), conversationId)).toBe(false);
    expect(await store().getConversation(userId, conversationId)).toBeDefined();
    expect(await subject().countMessageRows(conversationId)).toBe(2);
  });

  it('clearing messages empties the conversation but keeps it', async () => {
    const userId = newUserId();
    const conversationId = await converse(store(), userId, 2);
    expect(await store().clearMessages(newUserId(), conversationId)).toBe(false);
    expect(await subject().countMessageRows(conversationId)).toBe(4);
    expect(await store().clearMessages(userId, conversationId)).toBe(true);
    expect(await subject().countMessageRows(conversationId)).toBe(0);
    expect(await store().getConversation(userId, conversationId)).toMatchObject({ messageCount: 0, lastMessageAt: null });
    const next = await begin(store(), userId, { kind: 'existing', conversationId }, 'fresh start');
    expect(next.history).toEqual([]);
    expect(next.conversation.messageCount).toBe(1);
  });
}

function defineConcurrencyTests(store: () => ChatStore, subject: () => ContractSubject): void {
  it("50 concurrent turns across 5 users' conversations all land, with exact totals", async () => {
    const users = Array.from({ length: 5 }, newUserId);
    const turns = users.flatMap((userId) =>
      Array.from({ length: 10 }, async (_, index) => {
        // Every user's turns race to create the same keyed conversation.
        const started = await begin(store(), userId, keyed('concurrent'), `turn ${index}`);
        await finish(store(), started, { promptTokens: 10 + index, completionTokens: 5 });
        return started.conversation.id;
      }),
    );
    const conversationIds = await Promise.all(turns);
    for (const [position, userId] of users.entries()) {
      const ids = new Set(conversationIds.slice(position * 10, position * 10 + 10));
      expect(ids.size).toBe(1);
      const [conversationId] = ids;
      expect(await subject().countMessageRows(conversationId!)).toBe(20);
      expect((await store().getConversation(userId, conversationId!))?.messageCount).toBe(20);
      expect(await store().getUsage(userId)).toMatchObject({
        promptTokens: 145,
        completionTokens: 50,
        totalTokens: 195,
        conversationsCount: 1,
        messagesCount: 20,
      });
    }
  });

  it('a write that fails among concurrent ones rolls back alone: the others land whole', async () => {
    const userId = newUserId();
    const owner = await begin(store(), userId, newTarget());
    // Interleaved so that failing and succeeding writes share a batch (SQLite commits queued writes together).
    const attempts = Array.from({ length: 30 }, (_, index) =>
      index % 3 === 0
        ? begin(store(), userId, { kind: 'existing', conversationId: uuidv7() }).then(
            () => 'stored',
            (error: { code?: string }) => error.code,
          )
        : begin(store(), userId, { kind: 'existing', conversationId: owner.conversation.id }).then(() => 'stored'),
    );
    const outcomes = await Promise.all(attempts);
    expect(outcomes.filter((outcome) => outcome === 'not_found')).toHaveLength(10);
    expect(outcomes.filter((outcome) => outcome === 'stored')).toHaveLength(20);
    // Each begun turn wrote its question and its reply in progress; only the questions are counted as messages yet.
    expect(await subject().countMessageRows(owner.conversation.id)).toBe(42);
    expect((await store().getConversation(userId, owner.conversation.id))?.messageCount).toBe(21);
    expect(await store().getUsage(userId)).toMatchObject({ conversationsCount: 1, messagesCount: 21 });
  });
}

function defineBudgetAndKeyTests(store: () => ChatStore): void {
  it("counts lifetime and today's tokens for budgets, atomically with each reply", async () => {
    const userId = newUserId();
    expect(await store().getTokenUsage(userId)).toEqual({ lifetimeTokens: 0, todayTokens: 0 });
    const turn = await begin(store(), userId, newTarget());
    await finish(store(), turn, { promptTokens: 30, completionTokens: 12 });
    const next = await begin(store(), userId, { kind: 'existing', conversationId: turn.conversation.id });
    await finish(store(), next, { promptTokens: 5, completionTokens: 3 });
    expect(await store().getTokenUsage(userId)).toEqual({ lifetimeTokens: 50, todayTokens: 50 });
  });

  it('creates, lists, finds and revokes API keys by hash', async () => {
    const userId = newUserId();
    const hash = `hash-${randomUUID()}`;
    const key = await store().createApiKey(userId, { name: 'laptop', keyHash: hash, prefix: 'pk_abcd' });
    expect(key).toMatchObject({ userId, name: 'laptop', prefix: 'pk_abcd', revokedAt: null });
    expect(await store().findApiKeyOwner(hash)).toBe(userId);
    expect((await store().listApiKeys(userId)).map((listed) => listed.id)).toEqual([key.id]);
    expect(await store().revokeApiKey(newUserId(), key.id)).toBe(false);
    expect(await store().revokeApiKey(userId, key.id)).toBe(true);
    expect(await store().revokeApiKey(userId, key.id)).toBe(false);
    expect(await store().findApiKeyOwner(hash)).toBeUndefined();
    expect((await store().listApiKeys(userId))[0]?.revokedAt).not.toBeNull();
  });
}

function defineImportTests(store: () => ChatStore): void {
  it('imports a conversation whole, in order, as a new conversation of the user, billing nothing', async () => {
    const userId = newUserId();
    const before = await store().getTokenUsage(userId);
    const imported = await store().importConversation(userId, {
      conversation: { surface: 'chat-sessions', title: 'Imported chat' },
      messages: [
        {
          role: 'user',
          content: 'First question',
          tokens: 3,
          status: 'complete',
          model: null,
          provider: null,
          createdAt: '2025-06-01T12:00:00.000Z',
        },
        {
          role: 'assistant',
          content: '',
          tokens: 4,
          status: 'complete',
          model: 'gpt-test',
          provider: 'fake',
          createdAt: '2025-06-01T12:00:01.000Z',
          toolCalls: [{ id: 'call_1', name: 'lookup', arguments: '{"q":"x"}' }],
        },
        {
          role: 'tool',
          content: '{"found":true}',
          tokens: 4,
          status: 'complete',
          model: null,
          provider: null,
          createdAt: '2025-06-01T12:00:02.000Z',
          toolCallId: 'call_1',
        },
        {
          role: 'assistant',
          content: 'Cut short',
          tokens: 2,
          status: 'interrupted',
          model: 'gpt-test',
          provider: 'fake',
          createdAt: '2025-06-01T12:00:03.000Z',
        },
      ],
    });
    expect(imported).toMatchObject({ userId, surface: 'chat-sessions', title: 'Imported chat', messageCount: 4 });
    expect(imported.lastMessageAt).toBe('2025-06-01T12:00:03.000Z');

    const { items } = await store().listMessages(userId, imported.id, { page: 1, limit: 10 });
    expect(items.map(({ role, content, status, createdAt }) => ({ role, content, status, createdAt }))).toEqual([
      { role: 'user', content: 'First question', status: 'complete', createdAt: '2025-06-01T12:00:00.000Z' },
      { role: 'assistant', content: '', status: 'complete', createdAt: '2025-06-01T12:00:01.000Z' },
      { role: 'tool', content: '{"found":true}', status: 'complete', createdAt: '2025-06-01T12:00:02.000Z' },
      { role: 'assistant', content: 'Cut short', status: 'interrupted', createdAt: '2025-06-01T12:00:03.000Z' },
    ]);
    expect(items[1]?.toolCalls).toEqual([{ id: 'call_1', name: 'lookup', arguments: '{"q":"x"}' }]);
    expect(items[2]?.toolCallId).toBe('call_1');
    expect(await store().getTokenUsage(userId)).toEqual(before);

    // The imported history is the next turn's context, and nobody else can reach it.
    const next = await begin(store(), userId, { kind: 'existing', conversationId: imported.id }, 'Follow-up');
    expect(contents(next.history)).toEqual(['First question', '', '{"found":true}', 'Cut short']);
    expect(await store().getConversation(newUserId(), imported.id)).toBeUndefined();
  });
}

function defineSearchTests(store: () => ChatStore): void {
  const search = (userId: string, ...terms: string[]) => store().searchMessages(userId, { terms, limit: 20 });

  it("finds a user's ended messages holding every term, the last as a prefix, newest first, on every surface, never another user's", async () => {
    const userId = newUserId();
    const first = await begin(store(), userId, newTarget(), 'What is the weather in Paris');
    await finish(store(), first, { content: 'Sunny weather in Paris today' });
    const second = await begin(store(), userId, keyed('trip'), 'Pack for rainy weather');
    await finish(store(), second, { content: 'Bring an umbrella' });
    const stranger = await begin(store(), newUserId(), newTarget(), 'weather in Paris');
    await finish(store(), stranger, { content: 'weather' });

    const hits = await search(userId, 'weather');
    expect(hits.map((hit) => hit.message.content)).toEqual([
      'Pack for rainy weather',
      'Sunny weather in Paris today',
      'What is the weather in Paris',
    ]);
    expect(hits[0]?.conversation).toEqual({ id: second.conversation.id, title: 'Keyed', surface: 'chat-sessions' });
    expect(hits[1]?.message).toMatchObject({ role: 'assistant', status: 'complete', conversationId: first.conversation.id });
    expect((await search(userId, 'paris', 'weath')).map((hit) => hit.message.content)).toEqual([
      'Sunny weather in Paris today',
      'What is the weather in Paris',
    ]);
    expect(await search(userId, 'weather', 'london')).toEqual([]);
    expect((await search(userId, 'WEATHER'.toLowerCase())).length).toBe(3);
  });

  it('finds a reply once it has ended, not while it streams, and forgets deleted conversations and cleared messages', async () => {
    const userId = newUserId();
    const turn = await begin(store(), userId, newTarget(), 'Tell me about zebras');
    await store().checkpointReply({ messageId: turn.replyId, content: 'Zebras have stripes', promptTokens: 4 });
    expect((await search(userId, 'stripes')).length).toBe(0);
    await finish(store(), turn, { content: 'Zebras have stripes and live in herds' });
    expect((await search(userId, 'stripes')).map((hit) => hit.message.id)).toEqual([turn.replyId]);

    const kept = await begin(store(), userId, newTarget(), 'zebras again');
    await store().clearMessages(userId, kept.conversation.id);
    await store().deleteConversation(userId, turn.conversation.id);
    expect(await search(userId, 'zebras')).toEqual([]);
    const later = await begin(store(), userId, newTarget(), 'zebras are back');
    expect((await search(userId, 'zebras')).map((hit) => hit.message.id)).toEqual([later.userMessage.id]);
  });
}

function defineShareLinkTests(store: () => ChatStore): void {
  it('a share link reads the conversation until its owner revokes it; only the owner can make, list or revoke it', async () => {
    const owner = newUserId();
    const turn = await begin(store(), owner, newTarget(), 'Share this');
    await finish(store(), turn, { content: 'Shared answer' });
    const token = `tok-${randomUUID()}`;
    const link = await store().createShareLink(owner, turn.conversation.id, token);
    expect(link).toMatchObject({ token, conversationId: turn.conversation.id, userId: owner, revokedAt: null });

    const shared = await store().readSharedConversation(token, 100);
    expect(shared?.conversation.id).toBe(turn.conversation.id);
    expect(contents(shared!.messages)).toEqual(['Share this', 'Shared answer']);
    // A reply still streaming is not shown.
    await begin(store(), owner, { kind: 'existing', conversationId: turn.conversation.id }, 'Second question');
    expect(contents((await store().readSharedConversation(token, 100))!.messages)).toEqual([
      'Share this',
      'Shared answer',
      'Second question',
    ]);

    const stranger = newUserId();
    await expect(store().createShareLink(stranger, turn.conversation.id, `tok-${randomUUID()}`)).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(store().listShareLinks(stranger, turn.conversation.id)).rejects.toMatchObject({ code: 'not_found' });
    expect(await store().revokeShareLink(stranger, token)).toBe(false);
    expect(await store().listShareLinks(owner, turn.conversation.id)).toEqual([link]);

    expect(await store().revokeShareLink(owner, token)).toBe(true);
    expect(await store().revokeShareLink(owner, token)).toBe(false);
    expect(await store().readSharedConversation(token, 100)).toBeUndefined();
    expect((await store().listShareLinks(owner, turn.conversation.id))[0]?.revokedAt).not.toBeNull();
    expect(await store().readSharedConversation('no-such-token', 100)).toBeUndefined();
  });

  it('a share link goes with its conversation', async () => {
    const owner = newUserId();
    const turn = await begin(store(), owner, newTarget(), 'Short-lived');
    const token = `tok-${randomUUID()}`;
    await store().createShareLink(owner, turn.conversation.id, token);
    await store().deleteConversation(owner, turn.conversation.id);
    expect(await store().readSharedConversation(token, 100)).toBeUndefined();
    await expect(store().createShareLink(owner, turn.conversation.id, `tok-${randomUUID()}`)).rejects.toMatchObject({ code: 'not_found' });
  });
}

function defineAccountTests(store: () => ChatStore): void {
  it('creates accounts with a unique email, the first an admin, and finds them with their password hash', async () => {
    const before = await store().countAccounts();
    const email = `${randomUUID()}@example.com`;
    const account = await store().createAccount({ email, passwordHash: 'scrypt$hash' });
    expect(account).toMatchObject({ email, role: before === 0 ? 'admin' : 'member' });
    expect(await store().countAccounts()).toBe(before + 1);
    expect(await store().findAccount(email)).toEqual({ ...account, passwordHash: 'scrypt$hash' });
    expect(await store().findAccount(`missing-${email}`)).toBeUndefined();
    await expect(store().createAccount({ email, passwordHash: 'other' })).rejects.toMatchObject({
      code: 'invalid_request',
      field: 'email',
    });
    const second = await store().createAccount({ email: `${randomUUID()}@example.com`, passwordHash: 'x' });
    expect(second.role).toBe('member');
  });
}

function defineRenameAndSummaryTests(store: () => ChatStore): void {
  it("renames a user's conversation, only from the expected title when asked, never another user's", async () => {
    const owner = newUserId();
    const created = await store().createConversation(owner, { surface: 'chat-sessions', title: 'New Chat' });
    const renamed = await store().renameConversation(owner, created.id, 'Trip to Lisbon');
    expect(renamed).toMatchObject({ id: created.id, title: 'Trip to Lisbon', updatedAt: created.updatedAt });
    expect((await store().getConversation(owner, created.id))?.title).toBe('Trip to Lisbon');
    // An automatic title arriving after the rename leaves the rename alone.
    expect(await store().renameConversation(owner, created.id, 'Automatic', { onlyIfTitle: 'New Chat' })).toBeUndefined();
    expect((await store().getConversation(owner, created.id))?.title).toBe('Trip to Lisbon');
    expect(await store().renameConversation(owner, created.id, 'Again', { onlyIfTitle: 'Trip to Lisbon' })).toMatchObject({
      title: 'Again',
    });
    expect(await store().renameConversation(newUserId(), created.id, 'Stolen')).toBeUndefined();
    expect(await store().renameConversation(owner, uuidv7(), 'Nothing')).toBeUndefined();
    expect((await store().getConversation(owner, created.id))?.title).toBe('Again');
  });

  it("stores a conversation's summary, the newest replacing the older, read only by its owner and gone with its messages", async () => {
    const owner = newUserId();
    const first = await begin(store(), owner, newTarget(), 'One');
    await finish(store(), first);
    const conversationId = first.conversation.id;
    expect(await store().latestSummary(owner, conversationId)).toBeUndefined();
    const saved = await store().saveSummary(owner, {
      conversationId,
      coversThroughMessageId: first.userMessage.id,
      content: 'Said one',
      tokens: 2,
    });
    expect(saved).toMatchObject({ conversationId, coversThroughMessageId: first.userMessage.id, content: 'Said one', tokens: 2 });
    expect(await store().latestSummary(owner, conversationId)).toEqual(saved);

    const newer = await store().saveSummary(owner, {
      conversationId,
      coversThroughMessageId: first.replyId,
      content: 'Said one, heard hi',
      tokens: 5,
    });
    expect(await store().latestSummary(owner, conversationId)).toEqual(newer);
    expect(await store().latestSummary(newUserId(), conversationId)).toBeUndefined();
    await expect(
      store().saveSummary(newUserId(), { conversationId, coversThroughMessageId: first.replyId, content: 'x', tokens: 1 }),
    ).rejects.toMatchObject({ code: 'not_found' });

    await store().clearMessages(owner, conversationId);
    expect(await store().latestSummary(owner, conversationId)).toBeUndefined();
  });
}

function defineMessageTreeTests(store: () => ChatStore): void {
  /** Two full turns in a new conversation; returns its id and the four messages, oldest first. */
  async function twoTurns(userId: string) {
    const first = await begin(store(), userId, newTarget(), 'question 1');
    const answer1 = await finish(store(), first, { content: 'answer 1' });
    const existing: ConversationTarget = { kind: 'existing', conversationId: first.conversation.id };
    const second = await begin(store(), userId, existing, 'question 2');
    const answer2 = await finish(store(), second, { content: 'answer 2' });
    return {
      existing,
      conversationId: first.conversation.id,
      question1: first.userMessage,
      answer1,
      question2: second.userMessage,
      answer2,
    };
  }

  function branchTurn(userId: string, target: ConversationTarget, branch: TurnBranch, content = 'edited', historyLimit = 20) {
    return store().beginTurn({ userId, target, content, tokens: 2, historyLimit, reply: testReply, branch });
  }

  async function listed(userId: string, conversationId: string, page = { page: 1, limit: 50 }) {
    return store().listMessages(userId, conversationId, page);
  }

  it('an unbranched conversation is a chain: each message follows the one before, with no other versions', async () => {
    const userId = newUserId();
    const { conversationId, question1, answer1, question2, answer2 } = await twoTurns(userId);
    const { items, total } = await listed(userId, conversationId);
    expect(items.map((message) => message.id)).toEqual([question1.id, answer1.id, question2.id, answer2.id]);
    expect(items.map((message) => message.parentId)).toEqual([null, question1.id, answer1.id, question2.id]);
    expect(items.every((message) => message.siblingIds === undefined)).toBe(true);
    expect(total).toBe(4);
    expect(question2.parentId).toBe(answer1.id);
  });

  it('an edit stores a new version of the user message beside the old one, its history the branch above it', async () => {
    const userId = newUserId();
    const { existing, conversationId, question1, answer1, question2, answer2 } = await twoTurns(userId);
    const edit = await branchTurn(userId, existing, { kind: 'edit', of: question2.id }, 'question 2, edited');
    expect(contents(edit.history)).toEqual(['question 1', 'answer 1']);
    expect(edit.userMessage).toMatchObject({ content: 'question 2, edited', parentId: answer1.id, role: 'user' });
    expect(edit.replySiblingIds).toEqual([edit.replyId]);
    expect(edit.conversation.messageCount).toBe(5);
    const reply = await finish(store(), edit, { content: 'answer 2, again' });
    expect(reply.parentId).toBe(edit.userMessage.id);

    const { items, total } = await listed(userId, conversationId);
    expect(contents(items)).toEqual(['question 1', 'answer 1', 'question 2, edited', 'answer 2, again']);
    expect(total).toBe(4);
    expect(items[2]!.siblingIds).toEqual([question2.id, edit.userMessage.id]);
    expect(items[3]!.siblingIds).toEqual([edit.replyId]);
    expect(items[0]!.siblingIds).toEqual([question1.id]);
    // The old version and its reply are kept, as a branch of their own.
    expect(await store().getMessage(userId, answer2.id)).toMatchObject({ content: 'answer 2', parentId: question2.id });
  });

  it('a summary is returned only while the message it covers is on the active branch', async () => {
    const userId = newUserId();
    const { existing, conversationId, question2, answer2 } = await twoTurns(userId);
    const summary = await store().saveSummary(userId, {
      conversationId,
      coversThroughMessageId: answer2.id,
      content: 'Asked twice',
      tokens: 3,
    });
    expect(await store().latestSummary(userId, conversationId)).toEqual(summary);

    const edit = await branchTurn(userId, existing, { kind: 'edit', of: question2.id }, 'question 2, edited');
    await finish(store(), edit, { content: 'answer 2, again' });
    // Its covered reply is now on the other branch.
    expect(await store().latestSummary(userId, conversationId)).toBeUndefined();

    await store().activateBranch(userId, conversationId, answer2.id);
    expect(await store().latestSummary(userId, conversationId)).toEqual(summary);
  });

  it('a regeneration stores a new version of the reply answering the same message, and no new user message', async () => {
    const userId = newUserId();
    const { existing, conversationId, question1, answer1, question2, answer2 } = await twoTurns(userId);
    const regenerated = await branchTurn(userId, existing, { kind: 'regenerate', of: answer2.id });
    expect(regenerated.userMessage).toMatchObject({ id: question2.id, content: 'question 2' });
    expect(contents(regenerated.history)).toEqual(['question 1', 'answer 1']);
    expect(regenerated.replySiblingIds).toEqual([answer2.id, regenerated.replyId]);
    expect(regenerated.conversation.messageCount).toBe(4);
    await finish(store(), regenerated, { content: 'answer 2, regenerated' });

    const { items } = await listed(userId, conversationId);
    expect(items.map((message) => message.id)).toEqual([question1.id, answer1.id, question2.id, regenerated.replyId]);
    expect(items[3]).toMatchObject({ content: 'answer 2, regenerated', parentId: question2.id });
    expect(items[3]!.siblingIds).toEqual([answer2.id, regenerated.replyId]);
    expect(await store().getConversation(userId, conversationId)).toMatchObject({ messageCount: 5 });
  });

  it("the next turn's history follows the active branch only, up to the limit, failed replies left out", async () => {
    const userId = newUserId();
    const { existing, question2 } = await twoTurns(userId);
    const edit = await branchTurn(userId, existing, { kind: 'edit', of: question2.id }, 'question 2b');
    await finish(store(), edit, { status: 'failed', content: 'broken' });
    const retry = await begin(store(), userId, existing, 'question 3');
    await finish(store(), retry, { content: 'answer 3' });
    const next = await begin(store(), userId, existing, 'question 4');
    expect(contents(next.history)).toEqual(['question 1', 'answer 1', 'question 2b', 'question 3', 'answer 3']);
    expect(next.userMessage.parentId).toBe(retry.replyId);
    const limited = await begin(store(), userId, existing, 'question 5', 3);
    // question 4's reply is still in progress: not context.
    expect(contents(limited.history)).toEqual(['question 3', 'answer 3', 'question 4']);
  });

  it('activating a branch shows it, follows the newest child below the message, and is where the next turn goes', async () => {
    const userId = newUserId();
    const { existing, conversationId, question1, question2, answer2 } = await twoTurns(userId);
    const edit = await branchTurn(userId, existing, { kind: 'edit', of: question2.id }, 'question 2b');
    await finish(store(), edit, { content: 'answer 2b' });

    await store().activateBranch(userId, conversationId, question2.id);
    expect(contents((await listed(userId, conversationId)).items)).toEqual(['question 1', 'answer 1', 'question 2', 'answer 2']);
    const onOldBranch = await begin(store(), userId, existing, 'question 3');
    expect(contents(onOldBranch.history)).toEqual(['question 1', 'answer 1', 'question 2', 'answer 2']);
    expect(onOldBranch.userMessage.parentId).toBe(answer2.id);
    await finish(store(), onOldBranch, { content: 'answer 3' });

    // From the root down, the newest child at each step: the edit's branch, stored after the old one.
    await store().activateBranch(userId, conversationId, question1.id);
    const { items, total } = await listed(userId, conversationId, { page: 2, limit: 2 });
    expect(contents(items)).toEqual(['question 2b', 'answer 2b']);
    expect(total).toBe(4);
  });

  it("another user's messages and conversations are not found, nor a message of the wrong role", async () => {
    const owner = newUserId();
    const intruder = newUserId();
    const { existing, conversationId, question2, answer2 } = await twoTurns(owner);
    const notFound = { code: 'not_found' };
    await expect(branchTurn(intruder, existing, { kind: 'edit', of: question2.id })).rejects.toMatchObject(notFound);
    await expect(branchTurn(intruder, existing, { kind: 'regenerate', of: answer2.id })).rejects.toMatchObject(notFound);
    await expect(branchTurn(owner, existing, { kind: 'edit', of: answer2.id })).rejects.toMatchObject(notFound);
    await expect(branchTurn(owner, existing, { kind: 'regenerate', of: question2.id })).rejects.toMatchObject(notFound);
    await expect(branchTurn(owner, existing, { kind: 'edit', of: uuidv7() })).rejects.toMatchObject(notFound);
    const elsewhere = await begin(store(), owner, newTarget(), 'another conversation');
    const inOther: ConversationTarget = { kind: 'existing', conversationId: elsewhere.conversation.id };
    await expect(branchTurn(owner, inOther, { kind: 'edit', of: question2.id })).rejects.toMatchObject(notFound);
    await expect(branchTurn(owner, newTarget(), { kind: 'edit', of: question2.id })).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(store().activateBranch(intruder, conversationId, question2.id)).rejects.toMatchObject(notFound);
    await expect(store().activateBranch(owner, elsewhere.conversation.id, question2.id)).rejects.toMatchObject(notFound);
    expect(await store().getMessage(intruder, question2.id)).toBeUndefined();
    // Nothing was stored by the refused turns.
    expect(contents((await listed(owner, conversationId)).items)).toEqual(['question 1', 'answer 1', 'question 2', 'answer 2']);
    expect(await store().getConversation(owner, conversationId)).toMatchObject({ messageCount: 4 });
  });

  it('a share link of a branched conversation reads its active branch', async () => {
    const userId = newUserId();
    const { existing, conversationId, question2 } = await twoTurns(userId);
    await finish(store(), await branchTurn(userId, existing, { kind: 'edit', of: question2.id }, 'question 2b'), { content: 'answer 2b' });
    const token = `branch-${randomUUID()}`;
    await store().createShareLink(userId, conversationId, token);
    const shared = await store().readSharedConversation(token, 50);
    expect(contents(shared!.messages)).toEqual(['question 1', 'answer 1', 'question 2b', 'answer 2b']);
  });

  it('clearing a branched conversation starts it over as a chain', async () => {
    const userId = newUserId();
    const { existing, conversationId, question2 } = await twoTurns(userId);
    await finish(store(), await branchTurn(userId, existing, { kind: 'edit', of: question2.id }), { content: 'edited answer' });
    await store().clearMessages(userId, conversationId);
    const fresh = await begin(store(), userId, existing, 'again');
    expect(fresh.userMessage.parentId).toBeNull();
    expect(fresh.history).toEqual([]);
    await finish(store(), fresh, { content: 'from the start' });
    const { items } = await listed(userId, conversationId);
    expect(contents(items)).toEqual(['again', 'from the start']);
    expect(items[1]!.siblingIds).toBeUndefined();
  });

  it('an imported conversation is a chain, and its next turn follows its last message', async () => {
    const userId = newUserId();
    const message = { status: 'complete', model: null, provider: null, createdAt: new Date().toISOString(), tokens: 1 } as const;
    const imported = await store().importConversation(userId, {
      conversation: { surface: 'chat-sessions' },
      messages: [
        { ...message, role: 'user', content: 'imported question' },
        { ...message, role: 'assistant', content: 'imported answer' },
      ],
    });
    const next = await begin(store(), userId, { kind: 'existing', conversationId: imported.id }, 'follow-up');
    const { items } = await listed(userId, imported.id);
    expect(contents(items)).toEqual(['imported question', 'imported answer', 'follow-up', '']);
    expect(items.map((item) => item.parentId)).toEqual([null, items[0]!.id, items[1]!.id, items[2]!.id]);
    expect(next.userMessage.parentId).toBe(items[1]!.id);
  });
}

function defineAdminTests(store: () => ChatStore): void {
  /** Pages through every user, since the suite's other tests add users too. */
  async function everyUser() {
    const first = await store().listUsers({ page: 1, limit: 1000 });
    return first.items;
  }

  it('lists users with their usage today and in total, conversation counts and account, leaving guests out', async () => {
    const userId = newUserId();
    const conversation = await converse(store(), userId, 2);
    await store().createConversation(userId, { surface: 'chat-sessions' });
    const guest = `anonymous:${randomUUID()}`;
    await converse(store(), guest, 1);
    const email = `${randomUUID()}@example.com`;
    const account = await store().createAccount({ email, passwordHash: 'x' });
    const users = await everyUser();
    expect(conversation).not.toBe('');
    expect(users.find((user) => user.userId === userId)).toMatchObject({
      email: null,
      accountRole: null,
      todayTokens: 30,
      totalTokens: 30,
      conversationsCount: 2,
      access: { userId, disabled: false, tokenBudgetDaily: null, tokenBudgetLifetime: null, rateLimitPerMinute: null },
    });
    expect(users.find((user) => user.userId === account.userId)).toMatchObject({ email, accountRole: account.role, totalTokens: 0 });
    expect(users.some((user) => user.userId === guest)).toBe(false);
    const paged = await store().listUsers({ page: 2, limit: 1 });
    expect(paged.items).toHaveLength(1);
    expect(paged.total).toBe(users.length);
    expect(paged.items[0]?.userId).toBe(users[1]?.userId);
  });

  it('updates access settings with an audit entry in the same write, null clearing an override', async () => {
    const userId = newUserId();
    await converse(store(), userId, 1);
    const actorUserId = newUserId();
    const changed = await store().updateUserAccess(
      userId,
      { disabled: true, tokenBudgetDaily: 500, rateLimitPerMinute: 3 },
      { actorUserId, action: 'user.update', details: { request: 'first' } },
    );
    expect(changed?.before).toEqual({
      userId,
      disabled: false,
      tokenBudgetDaily: null,
      tokenBudgetLifetime: null,
      rateLimitPerMinute: null,
    });
    expect(changed?.after).toEqual({ userId, disabled: true, tokenBudgetDaily: 500, tokenBudgetLifetime: null, rateLimitPerMinute: 3 });
    expect(await store().getUserAccess(userId)).toEqual(changed?.after);
    expect((await store().listUserAccess()).find((access) => access.userId === userId)).toEqual(changed?.after);

    const cleared = await store().updateUserAccess(
      userId,
      { disabled: false, tokenBudgetDaily: null, rateLimitPerMinute: undefined },
      { actorUserId, action: 'user.update', details: {} },
    );
    expect(cleared?.after).toEqual({ userId, disabled: false, tokenBudgetDaily: null, tokenBudgetLifetime: null, rateLimitPerMinute: 3 });
    await store().updateUserAccess(userId, { rateLimitPerMinute: null }, { actorUserId, action: 'user.update', details: {} });
    expect((await store().listUserAccess()).some((access) => access.userId === userId)).toBe(false);

    const audit = await store().listAudit({ page: 1, limit: 1000 });
    const mine = audit.items.filter((entry) => entry.actorUserId === actorUserId);
    expect(mine).toHaveLength(3);
    // Newest first.
    expect(mine[2]).toMatchObject({
      action: 'user.update',
      targetUserId: userId,
      details: { request: 'first', before: changed?.before, after: changed?.after },
    });
    expect(Date.parse(mine[2]!.createdAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(mine[0]!.id > mine[1]!.id && mine[1]!.id > mine[2]!.id).toBe(true);
  });

  it('refuses to update a user it has never seen, writing no audit entry', async () => {
    const before = (await store().listAudit({ page: 1, limit: 1 })).total;
    const missing = newUserId();
    expect(
      await store().updateUserAccess(missing, { disabled: true }, { actorUserId: 'admin', action: 'user.update', details: {} }),
    ).toBeUndefined();
    expect(await store().getUserAccess(missing)).toBeUndefined();
    expect((await store().listAudit({ page: 1, limit: 1 })).total).toBe(before);
  });

  it('appends audit entries and pages through them newest first', async () => {
    const actorUserId = newUserId();
    const first = await store().appendAudit({ actorUserId, action: 'test.one', targetUserId: null, details: { n: 1 } });
    const second = await store().appendAudit({ actorUserId, action: 'test.two', targetUserId: 'someone', details: { n: 2 } });
    expect(second).toMatchObject({ actorUserId, action: 'test.two', targetUserId: 'someone', details: { n: 2 } });
    const page = await store().listAudit({ page: 1, limit: 2 });
    expect(page.items.map((entry) => entry.id)).toEqual([second.id, first.id]);
    expect(page.total).toBeGreaterThanOrEqual(2);
    expect((await store().listAudit({ page: 2, limit: 1 })).items[0]?.id).toBe(first.id);
  });

  it("counts each provider's ended replies since a moment with their time-to-first-token percentiles", async () => {
    const provider = `provider-${randomUUID()}`;
    const userId = newUserId();
    const since = new Date(Date.now() - 1000);
    let target = newTarget();
    for (let turn = 1; turn <= 10; turn += 1) {
      const started = await begin(store(), userId, target);
      await finish(store(), started, { provider, timeToFirstTokenMs: turn * 10 });
      target = { kind: 'existing', conversationId: started.conversation.id };
    }
    await finish(store(), await begin(store(), userId, target), { provider, status: 'failed', timeToFirstTokenMs: null });
    await finish(store(), await begin(store(), userId, target), { provider, status: 'interrupted', timeToFirstTokenMs: null });
    // In progress: not counted.
    await begin(store(), userId, target);
    const stats = (await store().providerTurnStats(since)).find((row) => row.provider === provider);
    expect(stats).toEqual({ provider, turns: 12, failed: 1, interrupted: 1, timeToFirstTokenP50Ms: 50, timeToFirstTokenP99Ms: 100 });
    expect((await store().providerTurnStats(new Date(Date.now() + 60_000))).find((row) => row.provider === provider)).toBeUndefined();
  });
}
