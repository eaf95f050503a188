import { FakeUpstream } from './fake-upstream.js';
import { startTestServer, type TestServer } from './test-server.js';

/** A Parley whose OpenAI and Anthropic providers both point at one fake upstream of its own. */
export interface UpstreamHarness {
  fake: FakeUpstream;
  server: TestServer;
  close(): Promise<void>;
}

export async function startUpstreamHarness(env: Record<string, string> = {}): Promise<UpstreamHarness> {
  const fake = await FakeUpstream.start();
  const server = await startTestServer({
    env: {
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: fake.openaiBaseUrl,
      ANTHROPIC_API_KEY: 'sk-ant-test',
      ANTHROPIC_BASE_URL: fake.anthropicBaseUrl,
      ...env,
    },
  });
  return {
    fake,
    server,
    async close() {
      await server.close();
      await fake.close();
    },
  };
}
