import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeUpstream } from '../support/fake-upstream.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { VoiceTestClient } from '../transports/voice-client.js';

/**
 * METRICS=false, for operators who scrape nothing (and for the relay bench's
 * metrics-on/off comparison): GET /metrics is gone and turns still stream
 * and are stored as with metrics on.
 */
describe('METRICS=false', () => {
  let fake: FakeUpstream;
  let server: TestServer;

  beforeAll(async () => {
    fake = await FakeUpstream.start();
    server = await startTestServer({
      env: {
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: fake.openaiBaseUrl,
        ANTHROPIC_API_KEY: 'sk-ant-test',
        ANTHROPIC_BASE_URL: fake.anthropicBaseUrl,
        METRICS: 'false',
      },
    });
  });
  afterAll(async () => {
    await server?.close();
    await fake?.close();
  });

  it('serves no /metrics and still relays and stores turns', async () => {
    const streamed = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-parley-store': 'true' },
      body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'no counting' }] }),
    });
    expect(streamed.status).toBe(200);
    expect(await streamed.text()).toContain('You said: no counting');
    const session = (await (
      await fetch(`${server.url}/api/v1/chat/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    ).json()) as { id: string };
    const sent = await fetch(`${server.url}/api/v1/chat/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ session_id: session.id, content: 'stored anyway' }),
    });
    expect(sent.status).toBe(200);
    const history = (await (await fetch(`${server.url}/api/v1/chat/messages/${session.id}`)).json()) as unknown;
    expect(JSON.stringify(history)).toContain('You said: stored anyway');
    const scrape = await fetch(`${server.url}/metrics`);
    expect(scrape.status).toBe(404);
  });

  it('answers and speaks a voice message with nothing to count it into', async () => {
    const client = await VoiceTestClient.connect(server.url);
    try {
      client.socket.emit('text-message', 'no counting aloud');
      const response = await client.waitFor('ai-response');
      expect(response.text).toBe('You said: no counting aloud');
      expect(Buffer.from(response.audio!, 'base64')).toEqual(fake.behaviour.speech);
      expect(client.events('error')).toEqual([]);
    } finally {
      client.close();
    }
  });

  it('rejects a METRICS value that is not a boolean, naming it', async () => {
    await expect(startTestServer({ env: { METRICS: 'sometimes' } })).rejects.toThrow(/METRICS/);
  });
});
