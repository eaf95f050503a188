import { io, type Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream } from '../support/fake-upstream.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { signToken, testJwtSecret } from '../support/tokens.js';
import { startUpstreamHarness, type UpstreamHarness } from '../support/upstream-harness.js';
import { AiClients, emitRaw, nextEvent, recordEvents, type AiClient, type AiPayload } from './ai-namespace-client.js';

const longReply = Array.from({ length: 300 }, (_, index) => `word${index}`).join(' ');

describe('the /ai namespace for seed 001 (chat:start, chat:stop)', () => {
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

  /** The chat:end or chat:error that ends the next turn. */
  function turnEnd(socket: AiClient): Promise<{ end?: AiPayload<'chat:end'>; error?: AiPayload<'chat:error'> }> {
    return Promise.race([
      nextEvent(socket, 'chat:end').then((end) => ({ end })),
      nextEvent(socket, 'chat:error').then((error) => ({ error })),
    ]);
  }

  async function storedMessages(userId: string, conversationId: string) {
    return (await server.app.store.listMessages(userId, conversationId, { page: 1, limit: 100 })).items;
  }

  function chatRequests() {
    return fake.requests.filter((request) => request.path === '/v1/chat/completions');
  }

  describe("the seed's own WebSocket test, against a local-mode server", () => {
    let localServer: TestServer;
    let socket: Socket;

    beforeAll(async () => {
      localServer = await startTestServer({ env: upstreamEnv() });
      // The seed's beforeAll, with its done callback as a promise (vitest has no done callbacks).
      await new Promise<void>((done) => {
        socket = clients.track(io(`${localServer.url}/ai`));
        socket.on('connect', done);
      });
    });
    afterAll(async () => {
      socket.close();
      await localServer.close();
    });

    it('should stream chat response', async () => {
      let streamed = '';
      // The seed's test body, as written.
      await new Promise<void>((done) => {
        let response = '';

        socket.on('chat:message', (data) => {
          response += data.content;
        });

        socket.on('chat:end', () => {
          expect(response.length).toBeGreaterThan(0);
          streamed = response;
          done();
        });

        socket.emit('chat:start', {
          userId: 'test-user',
          message: 'Hi',
        });
      });
      expect(streamed).toBe('You said: Hi');
      // In local mode the payload's userId means nothing: the local user asked.
      const { items } = await localServer.app.store.listConversations('local', 'ai-module', { page: 1, limit: 10 });
      expect(items.map((conversation) => conversation.title)).toEqual(['Hi']);
      expect((await localServer.app.store.listConversations('test-user', 'ai-module', { page: 1, limit: 10 })).total).toBe(0);
    });
  });

  it("follows the seed's React example: a new conversation, then a second message in it with the first exchange as context", async () => {
    const userId = 'react-user';
    const accessToken = await signToken(userId);
    // The example's state and handlers, without React.
    let conversationId: string | null = null;
    let response = '';
    const conversationEvents: string[] = [];
    const newSocket = clients.track(io(`${server.url}/ai`, { auth: { token: accessToken } }));
    newSocket.on('chat:conversation', (data) => {
      conversationEvents.push(data.conversationId);
      conversationId = data.conversationId;
    });
    newSocket.on('chat:message', (data) => {
      response += data.content;
    });
    const socket = newSocket as unknown as AiClient;
    const userMessages = recordEvents(socket);
    const sendMessage = (message: string) => {
      response = '';
      newSocket.emit('chat:start', { userId, message, conversationId, model: 'gpt-4', maxTokens: 4096, temperature: 0.7 });
    };

    sendMessage('Explain NestJS');
    const first = (await turnEnd(socket)).end!;
    expect(response).toBe('You said: Explain NestJS');
    expect(conversationEvents).toEqual([first.conversationId]);
    expect(conversationId).toBe(first.conversationId);
    expect(first).toMatchObject({ model: 'gpt-4', messageId: expect.any(String) });
    expect(first.totalTokens).toBeGreaterThan(0);

    sendMessage('And its modules?');
    const second = (await turnEnd(socket)).end!;
    expect(response).toBe('You said: And its modules?');
    expect(second.conversationId).toBe(first.conversationId);
    expect(conversationEvents).toHaveLength(1);

    const upstream = chatRequests()[1]!.body;
    expect(upstream).toMatchObject({ model: 'gpt-4', max_tokens: 4096, temperature: 0.7 });
    expect(upstream.messages).toEqual([
      { role: 'user', content: 'Explain NestJS' },
      { role: 'assistant', content: 'You said: Explain NestJS' },
      { role: 'user', content: 'And its modules?' },
    ]);

    const stored = await storedMessages(userId, first.conversationId);
    const announced = userMessages.filter(({ event }) => event === 'chat:user-message').map(({ payload }) => payload);
    expect(announced).toEqual([
      { messageId: stored[0]!.id, content: 'Explain NestJS', conversationId: first.conversationId },
      { messageId: stored[2]!.id, content: 'And its modules?', conversationId: first.conversationId },
    ]);
    expect(stored.map(({ role, status }) => `${role}:${status}`)).toEqual([
      'user:complete',
      'assistant:complete',
      'user:complete',
      'assistant:complete',
    ]);
    expect(stored[1]!.id).toBe(first.messageId);
    expect(stored[3]!.id).toBe(second.messageId);
    expect(second.totalTokens).toBe(stored[3]!.promptTokens! + stored[3]!.completionTokens!);
    const conversation = await server.app.store.getConversation(userId, first.conversationId);
    expect(conversation).toMatchObject({ surface: 'ai-module', title: 'Explain NestJS' });
  });

  it('sends chat:conversation, chat:user-message, chat:message and chat:end in that order, each chunk naming its reply', async () => {
    const socket = await signedIn('ordering-user');
    const received = recordEvents(socket);
    socket.emit('chat:start', { userId: 'ordering-user', message: 'one two three' });
    const { end } = await turnEnd(socket);
    const names = received.map(({ event }) => event);
    expect(names.slice(0, 2)).toEqual(['chat:conversation', 'chat:user-message']);
    expect(names.at(-1)).toBe('chat:end');
    const chunks = received.slice(2, -1);
    expect(chunks.every(({ event }) => event === 'chat:message')).toBe(true);
    expect(chunks.map(({ payload }) => payload.content).join('')).toBe('You said: one two three');
    expect(chunks.every(({ payload }) => payload.messageId === end!.messageId && payload.conversationId === end!.conversationId)).toBe(
      true,
    );
  });

  it('titles a new conversation with the start of a long first message', async () => {
    const socket = await signedIn('long-title-user');
    const message = `${'Please help me plan a very long trip across many countries '.repeat(3)}and more`;
    socket.emit('chat:start', { userId: 'long-title-user', message });
    const { end } = await turnEnd(socket);
    const conversation = await server.app.store.getConversation('long-title-user', end!.conversationId);
    expect(conversation!.title!.length).toBeLessThanOrEqual(60);
    expect(message.startsWith(conversation!.title!.replace(/…$/, ''))).toBe(true);
  });

  it('refuses a userId that is not the signed-in user, storing and sending nothing', async () => {
    const socket = await signedIn('honest-user');
    socket.emit('chat:start', { userId: 'someone-else', message: 'Pretend to be them' });
    expect(await nextEvent(socket, 'chat:error')).toEqual({
      message: 'userId does not match the authenticated user',
      code: 'forbidden',
      field: 'userId',
    });
    expect(chatRequests()).toHaveLength(0);
    expect((await server.app.store.listConversations('honest-user', 'ai-module', { page: 1, limit: 10 })).total).toBe(0);
    expect((await server.app.store.listConversations('someone-else', 'ai-module', { page: 1, limit: 10 })).total).toBe(0);
  });

  it('refuses chat:start from a socket without a token: WebSocket connections must authenticate', async () => {
    const guest = await clients.connect(server.url);
    guest.emit('chat:start', { userId: 'anyone', message: 'Hello?' });
    const error = await nextEvent(guest, 'chat:error');
    expect(error.code).toBe('unauthorized');
    expect(error.message).toContain('WebSocket connections must authenticate');
    expect(chatRequests()).toHaveLength(0);
  });

  it('refuses the connection when the token is invalid, with a clear connect_error', async () => {
    const refusal = await clients.refusal(
      server.url,
      await signToken('forger', { secret: 'a-different-secret-that-is-32-characters-long' }),
    );
    expect(refusal.message).toBe('The token is invalid');
    expect(refusal.data).toEqual({ code: 'unauthorized' });
    expect((await clients.refusal(server.url, 'not-a-jwt')).message).toBe('The token is invalid');
  });

  it('refuses the connection when the token has expired, with a clear connect_error', async () => {
    const expired = await signToken('late-user', { expiresIn: Math.floor(Date.now() / 1000) - 60 });
    const refusal = await clients.refusal(server.url, expired);
    expect(refusal.message).toBe('The token has expired');
    expect(refusal.data).toEqual({ code: 'unauthorized' });
  });

  it('stops a running reply on chat:stop: the upstream is aborted and the partial reply stored as interrupted', async () => {
    fake.behaviour.reply = longReply;
    fake.behaviour.tokenDelayMs = 30;
    const socket = await signedIn('stopping-user');
    socket.emit('chat:start', { userId: 'stopping-user', message: 'Tell me everything' });
    const chunk = await nextEvent(socket, 'chat:message', ({ content }) => content.includes('word3'));
    const stopped = nextEvent(socket, 'chat:stopped');
    socket.emit('chat:stop');
    await fake.waitForAborts(1, 2000);
    expect(await stopped).toEqual({ conversationId: chunk.conversationId, messageId: chunk.messageId });
    const reply = (await storedMessages('stopping-user', chunk.conversationId))[1]!;
    expect(reply).toMatchObject({ id: chunk.messageId, status: 'interrupted' });
    expect(reply.content.startsWith('word0 word1 word2 word3')).toBe(true);
    expect(reply.content.length).toBeLessThan(longReply.length);
  });

  it('answers chat:stop with empty fields when nothing is running, also a second stop of a turn already stopping', async () => {
    const socket = await signedIn('idle-user');
    socket.emit('chat:stop');
    expect(await nextEvent(socket, 'chat:stopped')).toEqual({ conversationId: null, messageId: null });

    fake.behaviour.reply = longReply;
    fake.behaviour.tokenDelayMs = 30;
    const received = recordEvents(socket);
    socket.emit('chat:start', { userId: 'idle-user', message: 'Go on and on' });
    const chunk = await nextEvent(socket, 'chat:message');
    socket.emit('chat:stop');
    socket.emit('chat:stop');
    await expect.poll(() => received.filter(({ event }) => event === 'chat:stopped').length, { timeout: 2000 }).toBe(2);
    const stops = received.filter(({ event }) => event === 'chat:stopped').map(({ payload }) => payload);
    expect(stops).toContainEqual({ conversationId: null, messageId: null });
    expect(stops).toContainEqual({ conversationId: chunk.conversationId, messageId: chunk.messageId });
  });

  it('stops only chat:start turns: an ai_request on the same socket runs to its end', async () => {
    fake.behaviour.reply = (body) => (JSON.stringify(body).includes('assistant request') ? 'short steady answer' : longReply);
    fake.behaviour.tokenDelayMs = 20;
    const socket = await signedIn('mixed-user');
    socket.emit('ai_request', { requestId: 'keep-going', prompt: 'assistant request', stream: true });
    socket.emit('chat:start', { userId: 'mixed-user', message: 'module request' });
    await nextEvent(socket, 'chat:message');
    socket.emit('chat:stop');
    await nextEvent(socket, 'chat:stopped');
    const end = await nextEvent(socket, 'ai_stream_end');
    expect(end).toMatchObject({ requestId: 'keep-going', response: 'short steady answer' });
    expect(fake.abortedCount).toBe(1);
  });

  it('aborts the upstream when the client disconnects mid-stream and stores the partial reply as interrupted', async () => {
    fake.behaviour.reply = longReply;
    fake.behaviour.tokenDelayMs = 30;
    const socket = await signedIn('vanishing-user');
    socket.emit('chat:start', { userId: 'vanishing-user', message: 'Tell me everything' });
    const chunk = await nextEvent(socket, 'chat:message', ({ content }) => content.includes('word3'));
    socket.close();
    await fake.waitForAborts(1, 2000);
    await expect
      .poll(async () => (await storedMessages('vanishing-user', chunk.conversationId))[1]?.status, { timeout: 2000 })
      .toBe('interrupted');
  });

  it('answers 50 concurrent streaming clients, distinct users, each with its own complete reply', async () => {
    fake.behaviour.tokenDelayMs = 2;
    const sockets = await Promise.all(Array.from({ length: 50 }, (_, index) => signedIn(`chat-crowd-${index}`)));
    const replies = await Promise.all(
      sockets.map(async (socket, index) => {
        let text = '';
        socket.on('chat:message', ({ content }) => {
          text += content;
        });
        socket.emit('chat:start', { userId: `chat-crowd-${index}`, message: `client ${index}` });
        const { end, error } = await turnEnd(socket);
        return { text, end, error };
      }),
    );
    replies.forEach(({ text, end, error }, index) => {
      expect(error).toBeUndefined();
      expect(end).toBeDefined();
      expect(text).toBe(`You said: client ${index}`);
    });
  });

  it('answers bad payloads with chat:error naming the field, and keeps serving the socket', async () => {
    const socket = await signedIn('careless-chatter');
    const other = await signedIn('other-chatter');
    other.emit('chat:start', { userId: 'other-chatter', message: 'mine' });
    const othersConversation = (await turnEnd(other)).end!.conversationId;
    socket.emit('ai_request', { requestId: 'assistant-turn', prompt: 'an assistant question' });
    await nextEvent(socket, 'ai_response');
    const { items } = await server.app.store.listConversations('careless-chatter', 'assistant', { page: 1, limit: 1 });
    const assistantConversation = items[0]!.id;
    const requestsBefore = chatRequests().length;

    type Answer = Partial<AiPayload<'chat:error'>>;
    const invalid = (field: string, message?: string): Answer => ({
      code: 'invalid_request',
      field,
      ...(message === undefined ? {} : { message }),
    });
    const unknownConversation: Answer = { code: 'not_found', field: 'conversationId' };
    const cases: Array<{ payload: unknown; answer: Answer }> = [
      { payload: { userId: 'careless-chatter' }, answer: invalid('message', 'message is required') },
      { payload: { userId: 'careless-chatter', message: 42 }, answer: invalid('message', 'message must be a string') },
      { payload: 'not an object', answer: invalid('payload', 'The chat:start payload must be an object') },
      { payload: { message: 'hi', maxTokens: 'lots' }, answer: invalid('maxTokens', 'maxTokens must be a positive integer') },
      { payload: { message: 'hi', temperature: 9 }, answer: invalid('temperature') },
      { payload: { message: 'x'.repeat(32_001) }, answer: { code: 'payload_too_large', field: 'message' } },
      { payload: { message: 'hi', conversationId: 'no-such-conversation' }, answer: unknownConversation },
      { payload: { message: 'hi', conversationId: othersConversation }, answer: unknownConversation },
    ];
    for (const { payload, answer } of cases) {
      emitRaw(socket, 'chat:start', payload);
      expect(await nextEvent(socket, 'chat:error')).toMatchObject(answer);
    }
    expect(chatRequests()).toHaveLength(requestsBefore);
    expect(await storedMessages('other-chatter', othersConversation)).toHaveLength(2);
    expect(await storedMessages('careless-chatter', assistantConversation)).toHaveLength(2);
    socket.emit('chat:start', { userId: 'careless-chatter', message: 'Still there?' });
    expect((await turnEnd(socket)).end).toBeDefined();
  });

  it('reports an upstream failure as chat:error with a stable code', async () => {
    const socket = await signedIn('unlucky-chatter');
    fake.failNext({ status: 500 });
    socket.emit('chat:start', { userId: 'unlucky-chatter', message: 'hello' });
    expect((await turnEnd(socket)).error).toMatchObject({ code: 'provider_error' });
  });
});
