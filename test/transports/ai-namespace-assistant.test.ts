import { io } from 'socket.io-client';
import { v4 as uuidv4 } from 'uuid';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream } from '../support/fake-upstream.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { signToken, testJwtSecret } from '../support/tokens.js';
import { startUpstreamHarness, type UpstreamHarness } from '../support/upstream-harness.js';
import { AiClients, emitRaw, nextEvent, recordEvents, type AiClient } from './ai-namespace-client.js';

const systemPrompt = 'You are a helpful personal assistant for MintFlow users. Help them get things done efficiently.';
const longReply = Array.from({ length: 300 }, (_, index) => `word${index}`).join(' ');

describe('the /ai namespace for seed 000 (ai_request, clear_history)', () => {
  let harness: UpstreamHarness;
  let fake: FakeUpstream;
  let server: TestServer;
  const clients = new AiClients();
  const upstreamEnv = () => ({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.openaiBaseUrl, PROVIDER_MAX_RETRIES: '0' });

  beforeAll(async () => {
    // No retries: a fault the test queues reaches the client instead of being retried away.
    harness = await startUpstreamHarness({ JWT_SECRET: testJwtSecret, PROVIDER_MAX_RETRIES: '0', TURN_DETACH_SECONDS: '0' });
    ({ fake, server } = harness);
  });
  afterEach(() => {
    clients.closeAll();
    fake.reset();
  });
  afterAll(() => harness.close());

  async function signedIn(userId: string): Promise<AiClient> {
    return clients.connect(server.url, await signToken(userId));
  }

  async function ask(socket: AiClient, prompt: string, stream = false): Promise<string> {
    const requestId = uuidv4();
    socket.emit('ai_request', { requestId, prompt, stream });
    const answer = stream
      ? nextEvent(socket, 'ai_stream_end', (end) => end.requestId === requestId)
      : nextEvent(socket, 'ai_response', (reply) => reply.requestId === requestId);
    return (await answer).response;
  }

  async function storedHistory(userId: string) {
    const { items } = await server.app.store.listConversations(userId, 'assistant', { page: 1, limit: 10 });
    expect(items).toHaveLength(1);
    const { items: messages } = await server.app.store.listMessages(userId, items[0]!.id, { page: 1, limit: 100 });
    return { conversation: items[0]!, messages };
  }

  /** The messages (role and text) the upstream was sent for its `index`th chat request. */
  function upstreamMessages(index: number): Array<{ role: string; content: string }> {
    return fake.requests.filter((request) => request.path === '/v1/chat/completions')[index]!.body.messages;
  }

  it("answers the seed's client-side example as written: a reply, a stream in order, then a cleared history", async () => {
    const SERVER_URL = server.url;
    const AUTH_TOKEN = await signToken('seed-000-user');
    const logged: unknown[][] = [];
    // The seed's handlers log; this console records what they log.
    const console = { log: (...values: unknown[]) => logged.push(values), error: (...values: unknown[]) => logged.push(values) };

    // --- seed 000, "Client-Side", as written ---
    // Connect to the AI namespace
    const aiSocket = io(`${SERVER_URL}/ai`, {
      auth: {
        token: AUTH_TOKEN, // Optional: JWT token for authentication
      },
    });
    clients.track(aiSocket);
    const received = recordEvents(aiSocket as unknown as AiClient);

    // Send a non-streaming request
    const requestId = uuidv4();
    aiSocket.emit('ai_request', {
      requestId,
      model: 'gpt-4o', // Optional: Use the configured model or specify one
      prompt: 'Hello, I need help organizing my tasks for today.',
      stream: false,
    });

    // Send a streaming request
    const streamRequestId = uuidv4();
    aiSocket.emit('ai_request', {
      requestId: streamRequestId,
      model: 'gpt-4o', // Optional: Use the configured model or specify one
      prompt: 'Can you suggest a step-by-step plan for implementing a new feature?',
      stream: true,
    });

    // Clear conversation history
    aiSocket.emit('clear_history');

    // Listen for responses
    aiSocket.on('ai_response', (data) => {
      console.log('AI response received:', data.response);
    });

    // Listen for streaming events
    aiSocket.on('ai_stream_start', (data) => {
      console.log('AI stream started:', data);
    });

    aiSocket.on('ai_stream_chunk', (data) => {
      console.log('Chunk received:', data.chunk);
    });

    aiSocket.on('ai_stream_end', (data) => {
      console.log('AI stream ended:', data);
    });

    // Listen for errors
    aiSocket.on('ai_error', (data) => {
      console.error('AI error:', data);
    });

    // Listen for history cleared event
    aiSocket.on('history_cleared', (data) => {
      console.log('Conversation history cleared:', data);
    });
    // --- end of the seed's example ---

    await expect.poll(() => logged.some(([label]) => label === 'Conversation history cleared:'), { timeout: 5000 }).toBe(true);
    expect(logged.filter(([label]) => label === 'AI error:')).toEqual([]);
    expect(logged).toContainEqual(['AI response received:', 'You said: Hello, I need help organizing my tasks for today.']);

    const streamed = 'You said: Can you suggest a step-by-step plan for implementing a new feature?';
    const streamEvents = received.filter(({ payload }) => payload?.requestId === streamRequestId);
    const names = streamEvents.map(({ event }) => event);
    expect(names[0]).toBe('ai_stream_start');
    expect(names.at(-1)).toBe('ai_stream_end');
    expect(names.slice(1, -1).every((name) => name === 'ai_stream_chunk')).toBe(true);
    expect(streamEvents[0]!.payload).toEqual({ requestId: streamRequestId, model: 'gpt-4o', messageId: expect.any(String) });
    const chunks = streamEvents.slice(1, -1).map(({ payload }) => payload.chunk);
    expect(chunks.at(-1)).toEqual({ text: '', isComplete: true });
    expect(chunks.slice(0, -1).every((chunk) => chunk.isComplete === false)).toBe(true);
    expect(chunks.map((chunk) => chunk.text).join('')).toBe(streamed);
    const end = streamEvents.at(-1)!.payload;
    expect(end).toMatchObject({ requestId: streamRequestId, response: streamed, model: 'gpt-4o', messageId: expect.any(String) });
    expect(end.usage.promptTokens).toBeGreaterThan(0);
    expect(end.usage.completionTokens).toBeGreaterThan(0);

    const response = received.find(({ event }) => event === 'ai_response')!.payload;
    expect(response).toMatchObject({ requestId, model: 'gpt-4o', messageId: expect.any(String) });
    // clear_history applies after the requests sent before it, so it is answered last and leaves nothing behind.
    expect(received.at(-1)).toEqual({ event: 'history_cleared', payload: { success: true } });
    expect((await storedHistory('seed-000-user')).messages).toEqual([]);
  });

  it("stores each exchange in the user's one assistant conversation, the reply under the messageId it announced", async () => {
    const socket = await signedIn('persisting-user');
    const requestId = uuidv4();
    socket.emit('ai_request', { requestId, prompt: 'Remember this', stream: false });
    const reply = await nextEvent(socket, 'ai_response');
    const streamed = uuidv4();
    socket.emit('ai_request', { requestId: streamed, prompt: 'And this', stream: true });
    const end = await nextEvent(socket, 'ai_stream_end');

    const { conversation, messages } = await storedHistory('persisting-user');
    expect(conversation).toMatchObject({ surface: 'assistant', clientKey: 'assistant', systemPrompt: null });
    expect(messages.map(({ role, content, status }) => ({ role, content, status }))).toEqual([
      { role: 'user', content: 'Remember this', status: 'complete' },
      { role: 'assistant', content: 'You said: Remember this', status: 'complete' },
      { role: 'user', content: 'And this', status: 'complete' },
      { role: 'assistant', content: 'You said: And this', status: 'complete' },
    ]);
    expect(messages[1]!.id).toBe(reply.messageId);
    expect(messages[3]!.id).toBe(end.messageId);
    // The default model of the surface is OPENAI_DEFAULT_MODEL's default.
    expect(messages[1]!.model).toBe('gpt-4o');
  });

  it('sends the earlier exchange and the system prompt upstream with the next request', async () => {
    const socket = await signedIn('history-user');
    await ask(socket, 'My name is Ada');
    await ask(socket, 'What is my name?', true);
    expect(upstreamMessages(1)).toEqual([
      { role: 'system', content: systemPrompt },
      { role: 'user', content: 'My name is Ada' },
      { role: 'assistant', content: 'You said: My name is Ada' },
      { role: 'user', content: 'What is my name?' },
    ]);
  });

  it('clears the history: the next request is sent upstream without the earlier exchange', async () => {
    const socket = await signedIn('clearing-user');
    await ask(socket, 'Something to forget');
    socket.emit('clear_history');
    expect(await nextEvent(socket, 'history_cleared')).toEqual({ success: true });
    expect((await storedHistory('clearing-user')).messages).toEqual([]);
    await ask(socket, 'Fresh start');
    expect(upstreamMessages(1)).toEqual([
      { role: 'system', content: systemPrompt },
      { role: 'user', content: 'Fresh start' },
    ]);
  });

  it('answers clear_history with success when there is no history yet, and accepts an options object', async () => {
    const socket = await signedIn('never-asked-user');
    socket.emit('clear_history');
    expect(await nextEvent(socket, 'history_cleared')).toEqual({ success: true });
    socket.emit('clear_history', { reason: 'ignored' });
    expect(await nextEvent(socket, 'history_cleared')).toEqual({ success: true });
  });

  it("keeps two users' histories apart, and one user's clear does not touch the other's", async () => {
    const alice = await signedIn('alice');
    const bob = await signedIn('bob');
    await ask(alice, 'Alice secret');
    await ask(bob, 'Bob question');
    expect(JSON.stringify(upstreamMessages(1))).not.toContain('Alice secret');
    bob.emit('clear_history');
    await nextEvent(bob, 'history_cleared');
    expect((await storedHistory('alice')).messages).toHaveLength(2);
    await ask(alice, 'Still there?');
    expect(JSON.stringify(upstreamMessages(2))).toContain('Alice secret');
  });

  it('gives a guest (no token) a history of its own socket, apart from signed-in users and other guests', async () => {
    const guest = await clients.connect(server.url);
    await ask(guest, 'Guest secret');
    const user = await signedIn('guest-neighbour');
    await ask(user, 'User question');
    expect(JSON.stringify(upstreamMessages(1))).not.toContain('Guest secret');
    const otherGuest = await clients.connect(server.url);
    await ask(otherGuest, 'Other guest question');
    expect(JSON.stringify(upstreamMessages(2))).not.toContain('Guest secret');
    await ask(guest, 'Guest again');
    expect(JSON.stringify(upstreamMessages(3))).toContain('Guest secret');
    // The server and the client name the socket alike, and the guest is that socket.
    expect((await storedHistory(`anonymous:${guest.id}`)).messages).toHaveLength(4);
  });

  it('answers two concurrent requests on one socket each with its own reply, told apart by requestId', async () => {
    fake.behaviour.tokenDelayMs = 5;
    const socket = await signedIn('concurrent-user');
    const received = recordEvents(socket);
    socket.emit('ai_request', { requestId: 'first', prompt: 'one two three four five', stream: true });
    socket.emit('ai_request', { requestId: 'second', prompt: 'six seven eight nine ten', stream: true });
    await Promise.all([
      nextEvent(socket, 'ai_stream_end', (end) => end.requestId === 'first'),
      nextEvent(socket, 'ai_stream_end', (end) => end.requestId === 'second'),
    ]);
    const textOf = (requestId: string) =>
      received
        .filter(({ event, payload }) => event === 'ai_stream_chunk' && payload.requestId === requestId)
        .map(({ payload }) => payload.chunk.text)
        .join('');
    expect(textOf('first')).toBe('You said: one two three four five');
    expect(textOf('second')).toBe('You said: six seven eight nine ten');
  });

  it('refuses a requestId that is still running, and the first request still completes', async () => {
    fake.behaviour.tokenDelayMs = 10;
    const socket = await signedIn('duplicate-user');
    socket.emit('ai_request', { requestId: 'same', prompt: 'first use', stream: false });
    socket.emit('ai_request', { requestId: 'same', prompt: 'second use', stream: false });
    expect(await nextEvent(socket, 'ai_error')).toEqual({
      requestId: 'same',
      error: 'A request with this requestId is still running',
      code: 'invalid_request',
      field: 'requestId',
    });
    expect((await nextEvent(socket, 'ai_response')).response).toBe('You said: first use');
  });

  it('answers 50 concurrent streaming clients, distinct users, each with its own complete reply', async () => {
    fake.behaviour.tokenDelayMs = 2;
    const sockets = await Promise.all(Array.from({ length: 50 }, (_, index) => signedIn(`crowd-${index}`)));
    const replies = await Promise.all(
      sockets.map(async (socket, index) => {
        let text = '';
        socket.on('ai_stream_chunk', ({ chunk }) => {
          text += chunk.text;
        });
        return { end: await ask(socket, `client ${index}`, true), streamed: text };
      }),
    );
    replies.forEach(({ end, streamed }, index) => {
      expect(end).toBe(`You said: client ${index}`);
      expect(streamed).toBe(`You said: client ${index}`);
    });
  });

  it('aborts the upstream when the client disconnects mid-stream and stores the partial reply as interrupted', async () => {
    fake.behaviour.reply = longReply;
    fake.behaviour.tokenDelayMs = 30;
    const socket = await signedIn('leaving-user');
    socket.emit('ai_request', { requestId: 'long', prompt: 'Tell me everything', stream: true });
    await nextEvent(socket, 'ai_stream_chunk', ({ chunk }) => chunk.text.includes('word3'));
    socket.close();
    await fake.waitForAborts(1, 2000);
    await expect.poll(async () => (await storedHistory('leaving-user')).messages[1]?.status, { timeout: 2000 }).toBe('interrupted');
    const reply = (await storedHistory('leaving-user')).messages[1]!;
    expect(reply.content.startsWith('word0 word1 word2 word3')).toBe(true);
    expect(reply.content.length).toBeLessThan(longReply.length);
  });

  it('answers bad payloads with ai_error naming the field, and keeps serving the socket', async () => {
    const socket = await signedIn('careless-user');
    emitRaw(socket, 'ai_request', { requestId: 'no-prompt', stream: false });
    expect(await nextEvent(socket, 'ai_error')).toEqual({
      requestId: 'no-prompt',
      error: 'prompt is required',
      code: 'invalid_request',
      field: 'prompt',
    });
    emitRaw(socket, 'ai_request', { requestId: 'number-prompt', prompt: 42 });
    expect(await nextEvent(socket, 'ai_error')).toMatchObject({
      requestId: 'number-prompt',
      error: 'prompt must be a string',
      field: 'prompt',
    });
    emitRaw(socket, 'ai_request', 'just a string');
    expect(await nextEvent(socket, 'ai_error')).toEqual({
      requestId: null,
      error: 'The ai_request payload must be an object',
      code: 'invalid_request',
      field: 'payload',
    });
    emitRaw(socket, 'ai_request', { prompt: 'no id' });
    expect(await nextEvent(socket, 'ai_error')).toMatchObject({ requestId: null, error: 'requestId is required', field: 'requestId' });
    emitRaw(socket, 'ai_request', { requestId: 'odd-stream', prompt: 'hi', stream: 'yes' });
    expect(await nextEvent(socket, 'ai_error')).toMatchObject({ requestId: 'odd-stream', field: 'stream' });
    socket.emit('ai_request', { requestId: 'huge', prompt: 'x'.repeat(32_001) });
    expect(await nextEvent(socket, 'ai_error')).toMatchObject({ requestId: 'huge', code: 'payload_too_large', field: 'prompt' });
    emitRaw(socket, 'clear_history', 'everything');
    expect(await nextEvent(socket, 'ai_error')).toMatchObject({ requestId: null, field: 'payload' });
    // Nothing invalid reached the upstream, and the socket still works.
    expect(fake.requests).toHaveLength(0);
    expect(await ask(socket, 'Still there?')).toBe('You said: Still there?');
  });

  it('reports upstream failures as ai_error with the requestId and a stable code', async () => {
    const socket = await signedIn('unlucky-user');
    fake.failNext({ status: 500 });
    const received = recordEvents(socket);
    socket.emit('ai_request', { requestId: 'broken', prompt: 'hello', stream: true });
    expect(await nextEvent(socket, 'ai_error')).toMatchObject({ requestId: 'broken', code: 'provider_error' });
    // Refused before streaming began: no stream was announced.
    expect(received.map(({ event }) => event)).toEqual(['ai_error']);
    socket.emit('ai_request', { requestId: 'unknown-model', model: 'missing-model', prompt: 'hello', stream: false });
    const unknownModel = await nextEvent(socket, 'ai_error');
    expect(unknownModel).toMatchObject({ requestId: 'unknown-model', code: 'model_not_found' });
    expect(unknownModel.error).toContain("The model 'missing-model' does not exist");
  });

  it('sends at most ASSISTANT_HISTORY_LIMIT earlier messages upstream', async () => {
    const limited = await startTestServer({
      env: { ...upstreamEnv(), JWT_SECRET: testJwtSecret, ASSISTANT_HISTORY_LIMIT: '2' },
    });
    try {
      const socket = await clients.connect(limited.url, await signToken('limited-user'));
      await ask(socket, 'first');
      await ask(socket, 'second');
      await ask(socket, 'third');
      expect(upstreamMessages(2).map(({ content }) => content)).toEqual([systemPrompt, 'second', 'You said: second', 'third']);
    } finally {
      clients.closeAll();
      await limited.close();
    }
  });
});
