import { randomUUID } from 'node:crypto';
import { setTimeout } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FakeUpstream } from '../support/fake-upstream.js';
import { requireService } from '../support/services.js';
import { checkSpeechPrograms, inChunks, spokenWebm } from '../support/spoken-audio.js';
import type { TestServer } from '../support/test-server.js';
import { signToken, testJwtSecret } from '../support/tokens.js';
import { startUpstreamHarness, type UpstreamHarness } from '../support/upstream-harness.js';
import { VoiceTestClient } from './voice-client.js';

const speechProgramsAvailable = await requireService('ffmpeg, espeak-ng and pocketsphinx', checkSpeechPrograms);

interface SessionMessage {
  id: string;
  role: string;
  content: string;
  status: string;
}

/** What a refused handshake gives the client: Socket.IO's connect_error with the server's `data`. */
type ConnectRefusal = Error & { data?: { code?: string; field?: string } };

/** The chat-sessions REST API (seed 002) of one server, as a signed-in user or, without a token, in local mode. */
function chatSessions(server: TestServer, token: string | undefined) {
  const headers = (body: boolean): Record<string, string> => ({
    ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    ...(body ? { 'content-type': 'application/json' } : {}),
  });
  return {
    async create(): Promise<string> {
      const response = await fetch(`${server.url}/api/v1/chat/sessions`, { method: 'POST', headers: headers(true), body: '{}' });
      expect(response.status).toBe(201);
      return ((await response.json()) as { id: string }).id;
    },
    async send(sessionId: string, content: string): Promise<void> {
      const response = await fetch(`${server.url}/api/v1/chat/messages`, {
        method: 'POST',
        headers: headers(true),
        body: JSON.stringify({ session_id: sessionId, content }),
      });
      expect(response.status).toBe(200);
    },
    async messages(sessionId: string): Promise<SessionMessage[]> {
      const response = await fetch(`${server.url}/api/v1/chat/messages/${sessionId}?limit=100`, { headers: headers(false) });
      expect(response.status).toBe(200);
      return ((await response.json()) as { messages: SessionMessage[] }).messages;
    },
    async remove(sessionId: string): Promise<void> {
      const response = await fetch(`${server.url}/api/v1/chat/sessions/${sessionId}`, { method: 'DELETE', headers: headers(false) });
      expect(response.status).toBeLessThan(300);
    },
  };
}

/** A voice connection joins a conversation of its user (auth.conversationId): spoken and typed turns share one history. */
describe.skipIf(!speechProgramsAvailable)('a voice connection joining a conversation', () => {
  let harness: UpstreamHarness;
  let fake: FakeUpstream;
  let server: TestServer;
  const clients: VoiceTestClient[] = [];

  beforeAll(async () => {
    harness = await startUpstreamHarness({ JWT_SECRET: testJwtSecret, PROVIDER_MAX_RETRIES: '0', TEXT_TO_SPEECH: 'none' });
    ({ fake, server } = harness);
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
    fake.reset();
  });
  afterAll(async () => {
    await harness?.close();
  });

  async function connect(auth: Record<string, unknown>): Promise<VoiceTestClient> {
    const client = await VoiceTestClient.connect(server.url, auth);
    clients.push(client);
    return client;
  }

  async function refusal(auth: Record<string, unknown>): Promise<ConnectRefusal> {
    const refused = await VoiceTestClient.connect(server.url, auth).then(
      (client) => {
        clients.push(client);
        throw new Error(`connected with ${JSON.stringify(auth)}`);
      },
      (error: ConnectRefusal) => error,
    );
    return refused;
  }

  /** What the model was sent for each chat turn, without the system prompt. */
  const chatContexts = () =>
    fake.requests
      .filter((request) => request.path === '/v1/chat/completions')
      .map((request) => (request.body.messages as { role: string; content: string }[]).filter((message) => message.role !== 'system'));

  it('answers typed and spoken voice turns with the typed history as context, and stores them in the same chat session', async () => {
    const token = await signToken(`ada-${randomUUID()}`);
    const rest = chatSessions(server, token);
    const sessionId = await rest.create();
    await rest.send(sessionId, 'My name is Ada');
    fake.reset();

    const client = await connect({ token, conversationId: sessionId });
    client.socket.emit('text-message', 'What is my name?');
    expect((await client.waitFor('ai-response')).text).toBe('You said: What is my name?');
    expect(chatContexts()).toEqual([
      [
        { role: 'user', content: 'My name is Ada' },
        { role: 'assistant', content: 'You said: My name is Ada' },
        { role: 'user', content: 'What is my name?' },
      ],
    ]);

    fake.behaviour = { ...fake.behaviour, transcript: 'hello there' };
    await client.record(inChunks(await spokenWebm('hello there', 1000)));
    expect((await client.waitFor('ai-response', 2)).text).toBe('You said: hello there');
    expect(chatContexts()[1]).toEqual([
      { role: 'user', content: 'My name is Ada' },
      { role: 'assistant', content: 'You said: My name is Ada' },
      { role: 'user', content: 'What is my name?' },
      { role: 'assistant', content: 'You said: What is my name?' },
      { role: 'user', content: 'hello there' },
    ]);

    const stored = await rest.messages(sessionId);
    expect(stored.map(({ role, content, status }) => ({ role, content, status }))).toEqual([
      { role: 'user', content: 'My name is Ada', status: 'complete' },
      { role: 'assistant', content: 'You said: My name is Ada', status: 'complete' },
      { role: 'user', content: 'What is my name?', status: 'complete' },
      { role: 'assistant', content: 'You said: What is my name?', status: 'complete' },
      { role: 'user', content: 'hello there', status: 'complete' },
      { role: 'assistant', content: 'You said: hello there', status: 'complete' },
    ]);
    // The ids the voice events announced are the stored messages of the session.
    const received = client.events('message-received');
    expect(received.map(({ source, messageId }) => ({ source, messageId }))).toEqual([
      { source: 'text', messageId: stored[2]!.id },
      { source: 'voice', messageId: stored[4]!.id },
    ]);
    expect(client.events('ai-response').map((response) => response.messageId)).toEqual([stored[3]!.id, stored[5]!.id]);
  });

  it('takes the id in any case, and gives a connection without the option a voice conversation of its own', async () => {
    const userId = `grace-${randomUUID()}`;
    const token = await signToken(userId);
    const rest = chatSessions(server, token);
    const sessionId = await rest.create();

    const joined = await connect({ token, conversationId: sessionId.toUpperCase() });
    joined.socket.emit('text-message', 'spoken into the session');
    await joined.waitFor('ai-response');
    const own = await connect({ token });
    own.socket.emit('text-message', 'a voice conversation of its own');
    await own.waitFor('ai-response');

    expect((await rest.messages(sessionId)).map((message) => message.content)).toEqual([
      'spoken into the session',
      'You said: spoken into the session',
    ]);
    const voiceConversations = await server.app.store.listConversations(userId, 'voice', { page: 1, limit: 10 });
    expect(voiceConversations.items).toHaveLength(1);
    expect(voiceConversations.items[0]!.id).not.toBe(sessionId);
    expect(voiceConversations.items[0]!.messageCount).toBe(2);
  });

  it('refuses the handshake of a guest asking for a conversation, naming conversationId', async () => {
    const sessionId = await chatSessions(server, await signToken(`owner-${randomUUID()}`)).create();
    for (const auth of [{ conversationId: sessionId }, { token: null, conversationId: sessionId }]) {
      const refused = await refusal(auth);
      expect(refused.data).toEqual({ code: 'unauthorized', field: 'conversationId' });
      expect(refused.message).toMatch(/auth\.conversationId needs a signed-in user/);
    }
  });

  it("refuses another user's, an unknown and a malformed conversation id alike (not_found naming conversationId)", async () => {
    const ownerSession = await chatSessions(server, await signToken(`owner-${randomUUID()}`)).create();
    const token = await signToken(`intruder-${randomUUID()}`);
    const answers = [];
    for (const conversationId of [ownerSession, randomUUID(), 'not-a-conversation', 'i'.repeat(5_000), ' ']) {
      const refused = await refusal({ token, conversationId });
      answers.push({ message: refused.message, data: refused.data });
    }
    expect(answers).toEqual(Array(5).fill({ message: 'Conversation not found', data: { code: 'not_found', field: 'conversationId' } }));
    // Nothing was asked of the model, nothing stored.
    expect(fake.requests).toEqual([]);
  });

  it('refuses a conversation id that is not a string with invalid_request, and a bad token with unauthorized', async () => {
    const token = await signToken(`someone-${randomUUID()}`);
    for (const conversationId of [42, { id: 'x' }, ['x'], true]) {
      const refused = await refusal({ token, conversationId });
      expect(refused.data, JSON.stringify(conversationId)).toEqual({ code: 'invalid_request', field: 'conversationId' });
      expect(refused.message).toMatch(/auth\.conversationId must be a string/);
    }
    const forged = await refusal({ token: 'not-a-jwt', conversationId: randomUUID() });
    expect(forged.data?.code).toBe('unauthorized');
  });

  it('answers a turn in a conversation deleted while connected with not_found naming conversationId, never a fresh conversation', async () => {
    const userId = `dora-${randomUUID()}`;
    const token = await signToken(userId);
    const rest = chatSessions(server, token);
    const sessionId = await rest.create();
    const client = await connect({ token, conversationId: sessionId });
    client.socket.emit('text-message', 'first');
    await client.waitFor('ai-response');

    await rest.remove(sessionId);
    client.socket.emit('text-message', 'after the delete');
    expect(await client.waitFor('error')).toEqual({ message: 'Conversation not found', code: 'not_found', field: 'conversationId' });
    await client.waitFor('ai-typing', 4);
    client.socket.emit('text-message', { text: 'and again' });
    await client.waitFor('error', 2);

    expect(client.events('ai-typing').at(-1)).toEqual({ isTyping: false });
    expect(client.events('message-received')).toHaveLength(1);
    expect(await server.app.store.getConversation(userId, sessionId)).toBeUndefined();
    expect((await server.app.store.listConversations(userId, 'voice', { page: 1, limit: 10 })).items).toEqual([]);
    // The connection is still served.
    expect(client.socket.connected).toBe(true);
  });

  it('refuses an event payload that names a conversation: the connection keeps the one of its handshake', async () => {
    const token = await signToken(`eve-${randomUUID()}`);
    const rest = chatSessions(server, token);
    const [sessionId, otherSessionId] = [await rest.create(), await rest.create()];
    const client = await connect({ token, conversationId: sessionId });
    client.socket.emit('text-message', { text: 'into the other one', conversationId: otherSessionId });
    client.socket.emit('start-recording', { conversationId: otherSessionId });
    await client.waitFor('error', 2);
    expect(client.events('error')).toEqual([
      expect.objectContaining({ code: 'invalid_request', field: 'conversationId', message: expect.stringMatching(/^text-message cannot/) }),
      expect.objectContaining({
        code: 'invalid_request',
        field: 'conversationId',
        message: expect.stringMatching(/^start-recording cannot/),
      }),
    ]);
    await setTimeout(100);
    expect(fake.requests).toEqual([]);
    expect(await rest.messages(otherSessionId)).toEqual([]);

    client.socket.emit('text-message', { text: 'into mine' });
    await client.waitFor('ai-response');
    expect((await rest.messages(sessionId)).map((message) => message.content)).toEqual(['into mine', 'You said: into mine']);
  });
});

describe.skipIf(!speechProgramsAvailable)('a voice connection joining a conversation in local mode', () => {
  let harness: UpstreamHarness;
  let client: VoiceTestClient | undefined;

  beforeAll(async () => {
    harness = await startUpstreamHarness({ TEXT_TO_SPEECH: 'none' });
  });
  afterAll(async () => {
    client?.close();
    await harness?.close();
  });

  it("joins the local user's chat session with no token", async () => {
    const rest = chatSessions(harness.server, undefined);
    const sessionId = await rest.create();
    await rest.send(sessionId, 'typed first');
    client = await VoiceTestClient.connect(harness.server.url, { conversationId: sessionId });
    client.socket.emit('text-message', 'then spoken');
    await client.waitFor('ai-response');
    expect((await rest.messages(sessionId)).map((message) => message.content)).toEqual([
      'typed first',
      'You said: typed first',
      'then spoken',
      'You said: then spoken',
    ]);
  });
});
