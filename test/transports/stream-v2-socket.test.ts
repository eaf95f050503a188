import { io, type Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type {
  ClientToServerEvents,
  ServerToClientEvents,
  StreamChunk,
  StreamComplete,
  StreamFailure,
} from '../../src/transports/stream-v2/stream-v2-events.js';
import { FakeUpstream } from '../support/fake-upstream.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { signToken, testJwtSecret } from '../support/tokens.js';
import { lastUpstreamMessages, storedSessionMessages } from './stream-v2-inspection.js';

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

const uuidV4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** MAX_CONCURRENT_TURNS_PER_USER of the test server. */
const concurrentTurnLimit = 3;
const longReply = Array.from({ length: 200 }, (_, index) => `word${index}`).join(' ');

interface ChatOutcome {
  chunks: StreamChunk[];
  complete?: StreamComplete;
  error?: StreamFailure;
}

/** Emits one ai:chat and collects its events until ai:complete or ai:error. */
function chat(socket: ClientSocket, payload: unknown): Promise<ChatOutcome> {
  const outcome: ChatOutcome = { chunks: [] };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`no ai:complete or ai:error for ${JSON.stringify(payload)}`)), 5000);
    const onStream = (chunk: StreamChunk) => outcome.chunks.push(chunk);
    const onComplete = (complete: StreamComplete) => {
      outcome.complete = complete;
      finish();
    };
    const onError = (error: StreamFailure) => {
      outcome.error = error;
      finish();
    };
    function finish(failure?: Error) {
      clearTimeout(timer);
      socket.off('ai:stream', onStream).off('ai:complete', onComplete).off('ai:error', onError);
      if (failure === undefined) resolve(outcome);
      else reject(failure);
    }
    socket.on('ai:stream', onStream).on('ai:complete', onComplete).on('ai:error', onError);
    socket.emit('ai:chat', payload);
  });
}

describe('ai:chat on the default Socket.IO namespace', () => {
  let fake: FakeUpstream;
  let server: TestServer;
  const sockets: ClientSocket[] = [];

  beforeAll(async () => {
    fake = await FakeUpstream.start();
    server = await startTestServer({
      env: {
        JWT_SECRET: testJwtSecret,
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: fake.openaiBaseUrl,
        MAX_CONCURRENT_TURNS_PER_USER: String(concurrentTurnLimit),
        TURN_DETACH_SECONDS: '0',
      },
    });
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.close();
    fake.reset();
  });
  afterAll(async () => {
    await server?.close();
    await fake?.close();
  });

  function connect(): ClientSocket {
    const socket: ClientSocket = io(server.url, { forceNew: true, transports: ['websocket'] });
    sockets.push(socket);
    return socket;
  }

  const storedMessages = (userId: string, sessionId: string) => storedSessionMessages(server, userId, sessionId);
  const lastUpstream = () => lastUpstreamMessages(fake);

  it("answers the seed's Node.js test with ai:stream chunks, then ai:complete with the full response", async () => {
    fake.behaviour.tokenDelayMs = 10;
    const logged: unknown[] = [];
    const console = { log: (data: unknown) => logged.push(data) };
    const url = server.url;

    // Node.js test
    const socket: ClientSocket = io(url);
    sockets.push(socket);

    socket.emit('ai:chat', { message: 'Hello' });
    socket.on('ai:stream', console.log);
    socket.on('ai:complete', console.log);

    await expect.poll(() => (logged.at(-1) as Partial<StreamComplete> | undefined)?.response, { timeout: 3000 }).toBe('You said: Hello');
    const complete = logged.at(-1) as StreamComplete;
    const chunks = logged.slice(0, -1) as StreamChunk[];
    expect(complete.sessionId).toMatch(uuidV4);
    expect(Object.keys(complete).sort()).toEqual(['messageId', 'response', 'sessionId']);
    expect(chunks.length).toBeGreaterThan(1);
    // Beyond the seed's fields, each chunk names its turn and number, for turn:resume.
    const chunkFields = 'content,messageId,seq,sessionId';
    expect(chunks.every((chunk) => Object.keys(chunk).sort().join() === chunkFields && chunk.sessionId === complete.sessionId)).toBe(true);
    expect(chunks.every((chunk) => chunk.messageId === complete.messageId)).toBe(true);
    expect(chunks.map((chunk) => chunk.content).join('')).toBe('You said: Hello');
    // A guest on a socket is the socket itself.
    const stored = await storedMessages(`anonymous:${socket.id}`, complete.sessionId);
    expect(stored.map((message) => message.id)).toContain(complete.messageId);
  });

  it("streams to the seed's client example with its sessionId and token", async () => {
    const printed: unknown[] = [];
    const console = {
      log: (...values: unknown[]) => printed.push(values),
      error: (...values: unknown[]) => printed.push(['error', ...values]),
    };
    const socket: ClientSocket = io(server.url);
    sockets.push(socket);
    const completed = new Promise<void>((resolve) => socket.on('ai:complete', () => resolve()));

    // Send message
    socket.emit('ai:chat', {
      message: 'Hello',
      sessionId: 'my-session',
      token: await signToken('ann'), // optional
    });

    // Receive streaming chunks
    socket.on('ai:stream', (data) => {
      console.log(data.content); // "I", " can", " help"
      // Append to UI
    });

    // Receive complete response
    socket.on('ai:complete', (data) => {
      console.log('Full response:', data.response);
      console.log('Session ID:', data.sessionId);
    });

    // Handle errors
    socket.on('ai:error', (data) => {
      console.error('Error:', data.error);
    });

    await completed;
    expect(printed.slice(-2)).toEqual([
      ['Full response:', 'You said: Hello'],
      ['Session ID:', 'my-session'],
    ]);
    expect(printed.slice(0, -2).flat().join('')).toBe('You said: Hello');
    expect((await storedMessages('ann', 'my-session')).map((message) => message.content)).toEqual(['Hello', 'You said: Hello']);
  });

  it('accepts a token with a "Bearer " prefix', async () => {
    const outcome = await chat(connect(), { message: 'Hello', sessionId: 'prefixed', token: `Bearer ${await signToken('kim')}` });
    expect(outcome.complete?.sessionId).toBe('prefixed');
    expect(await storedMessages('kim', 'prefixed')).toHaveLength(2);
  });

  it("accepts the React example's null token from localStorage as a guest", async () => {
    const localStorage = { getItem: (_key: string): string | null => null };
    const outcome = await chat(connect(), { message: 'Hello', token: localStorage.getItem('token') });
    expect(outcome.complete?.response).toBe('You said: Hello');
  });

  it("stores the turn in the user's keyed conversation and sends it upstream with the next message", async () => {
    const socket = connect();
    const token = await signToken('bob');
    const first = await chat(socket, { message: 'My name is Bob', sessionId: 'notes', token });
    const messages = await storedMessages('bob', 'notes');
    expect(messages.map((message) => [message.role, message.content, message.status])).toEqual([
      ['user', 'My name is Bob', 'complete'],
      ['assistant', 'You said: My name is Bob', 'complete'],
    ]);
    expect(first.complete).toEqual({ response: 'You said: My name is Bob', sessionId: 'notes', messageId: messages[1]!.id });

    await chat(socket, { message: 'What is my name?', sessionId: 'notes', token });
    expect(lastUpstream()).toEqual(['user: My name is Bob', 'assistant: You said: My name is Bob', 'user: What is my name?']);
  });

  it('keeps the histories of two signed-in users who both choose "my-session" apart', async () => {
    const [cleo, dan] = await Promise.all([signToken('cleo'), signToken('dan')]);
    const socket = connect();
    await chat(socket, { message: 'Cleo secret', sessionId: 'my-session', token: cleo });
    await chat(socket, { message: 'Dan secret', sessionId: 'my-session', token: dan });
    await chat(socket, { message: 'Cleo again', sessionId: 'my-session', token: cleo });
    expect(lastUpstream()).toEqual(['user: Cleo secret', 'assistant: You said: Cleo secret', 'user: Cleo again']);
    await chat(socket, { message: 'Dan again', sessionId: 'my-session', token: dan });
    expect(lastUpstream()).toEqual(['user: Dan secret', 'assistant: You said: Dan secret', 'user: Dan again']);
  });

  it('keeps anonymous sockets apart from each other and from a signed-in user on the same sessionId', async () => {
    const [guest, otherGuest, signedIn] = [connect(), connect(), connect()];
    const token = await signToken('eli');
    await chat(guest, { message: 'Guest secret', sessionId: 'shared-name' });
    await chat(signedIn, { message: 'Eli secret', sessionId: 'shared-name', token });
    await chat(otherGuest, { message: 'Other guest', sessionId: 'shared-name' });
    expect(lastUpstream()).toEqual(['user: Other guest']);
    await chat(signedIn, { message: 'Eli again', sessionId: 'shared-name', token });
    expect(lastUpstream()).toEqual(['user: Eli secret', 'assistant: You said: Eli secret', 'user: Eli again']);
    await chat(guest, { message: 'Guest again', sessionId: 'shared-name' });
    expect(lastUpstream()).toEqual(['user: Guest secret', 'assistant: You said: Guest secret', 'user: Guest again']);
  });

  it('continues over Socket.IO a session the same user began over SSE', async () => {
    const token = await signToken('fay');
    const response = await fetch(`${server.url}/api/v2/ai/chat/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ message: 'Said over SSE', sessionId: 'both-ways' }),
    });
    expect(await response.text()).toContain('"done":true');
    await chat(connect(), { message: 'Said over the socket', sessionId: 'both-ways', token });
    expect(lastUpstream()).toEqual(['user: Said over SSE', 'assistant: You said: Said over SSE', 'user: Said over the socket']);
  });

  it("runs several ai:chat messages of one socket at once, and answers one past the user's concurrency limit with ai:error", async () => {
    fake.behaviour.tokenDelayMs = 30;
    fake.behaviour.reply = 'one two three four five six';
    const socket = connect();
    const sessionIds = Array.from({ length: concurrentTurnLimit + 1 }, (_, index) => `parallel-${index}`);
    const refusal = new Promise<StreamFailure>((resolve) => socket.once('ai:error', resolve));
    const completes: StreamComplete[] = [];
    socket.on('ai:complete', (complete) => completes.push(complete));
    for (const sessionId of sessionIds) socket.emit('ai:chat', { message: 'Hi', sessionId });

    const refused = await refusal;
    expect(refused.code).toBe('concurrency_limited');
    expect(sessionIds).toContain(refused.sessionId);
    await expect.poll(() => fake.openRequests, { timeout: 2000 }).toBe(concurrentTurnLimit);
    await expect.poll(() => completes.length, { timeout: 3000 }).toBe(concurrentTurnLimit);
    expect(completes.map((complete) => complete.sessionId).sort()).toEqual(
      sessionIds.filter((sessionId) => sessionId !== refused.sessionId),
    );
    expect(completes.every((complete) => complete.response === 'one two three four five six')).toBe(true);
    // Once the turns have ended the socket takes new ones.
    expect((await chat(socket, { message: 'After', sessionId: 'parallel-after' })).complete?.sessionId).toBe('parallel-after');
  });

  it("refuses an invalid or expired token with ai:error code 'unauthorized' instead of treating the sender as a guest", async () => {
    const socket = connect();
    const expired = await signToken('gil', { expiresIn: Math.floor(Date.now() / 1000) - 60 });
    expect((await chat(socket, { message: 'Hello', token: 'not-a-jwt' })).error).toEqual({
      error: 'The token is invalid',
      code: 'unauthorized',
    });
    expect((await chat(socket, { message: 'Hello', token: expired, sessionId: 'mine' })).error).toEqual({
      error: 'The token has expired',
      code: 'unauthorized',
      sessionId: 'mine',
    });
    expect(fake.requests).toHaveLength(0);
  });

  it('answers bad payloads with ai:error naming the field, and keeps serving the socket', async () => {
    const socket = connect();
    const cases: [payload: unknown, field: string][] = [
      [null, 'payload'],
      ['Hello', 'payload'],
      [{}, 'message'],
      [{ message: 42 }, 'message'],
      [{ message: '' }, 'message'],
      [{ message: 'Hello', sessionId: '' }, 'sessionId'],
      [{ message: 'Hello', sessionId: 'x'.repeat(201) }, 'sessionId'],
      [{ message: 'Hello', token: 12 }, 'token'],
    ];
    for (const [payload, field] of cases) {
      const { error } = await chat(socket, payload);
      expect(error?.code, JSON.stringify(payload)).toBe('invalid_request');
      expect(error?.field).toBe(field);
      expect(error?.error.startsWith(`${field}: `), error?.error).toBe(true);
    }
    expect(fake.requests).toHaveLength(0);
    expect((await chat(socket, { message: 'Still there?' })).complete?.response).toBe('You said: Still there?');
  });

  it('aborts the upstream at once when the socket disconnects mid-stream, and stores the partial reply as interrupted', async () => {
    fake.behaviour.reply = longReply;
    fake.behaviour.tokenDelayMs = 30;
    const socket = connect();
    let received = '';
    const reachedWord3 = new Promise<void>((resolve) =>
      socket.on('ai:stream', (chunk) => {
        received += chunk.content;
        if (received.includes('word3')) resolve();
      }),
    );
    socket.emit('ai:chat', { message: 'Tell me a long story', sessionId: 'story', token: await signToken('hugo') });
    await reachedWord3;
    const disconnectedAt = performance.now();
    socket.disconnect();
    await fake.waitForAborts(1, 1000);
    expect(performance.now() - disconnectedAt).toBeLessThan(250);

    await expect.poll(async () => (await storedMessages('hugo', 'story'))[1]?.status, { timeout: 2000 }).toBe('interrupted');
    const reply = (await storedMessages('hugo', 'story'))[1]!;
    expect(reply.content.startsWith('word0 word1 word2 word3')).toBe(true);
    expect(reply.content.length).toBeLessThan(longReply.length);
  });

  it('answers ai:error and stores the partial reply as failed when the provider dies midway', async () => {
    fake.behaviour.reply = longReply;
    fake.behaviour.dropAfterTokens = 10;
    const outcome = await chat(connect(), { message: 'Tell me a long story', sessionId: 'broken', token: await signToken('ivy') });
    const partial = longReply.split(' ').slice(0, 10).join(' ');
    expect(outcome.error).toEqual({ error: 'OpenAI closed the stream before finishing', code: 'provider_error', sessionId: 'broken' });
    expect(outcome.chunks.map((chunk) => chunk.content).join('')).toBe(partial);
    const reply = (await storedMessages('ivy', 'broken'))[1]!;
    expect(reply.status).toBe('failed');
    expect(reply.content).toBe(partial);
  });
});
