/**
 * The test suite's fake OpenAI/Anthropic upstream as a process of its own,
 * so benchmarks measure the relay's CPU apart from the upstream's.
 * Behaviour comes from FAKE_BEHAVIOUR (JSON of Partial<Behaviour>); prints
 * `FAKE_UPSTREAM <url>` when ready. One process per upstream behaviour.
 */
import { FakeUpstream } from '../../test/support/fake-upstream.js';

const fake = await FakeUpstream.start(JSON.parse(process.env.FAKE_BEHAVIOUR ?? '{}'));
console.log(`FAKE_UPSTREAM ${fake.url}`);
process.once('SIGTERM', () => {
  void fake.close().then(() => process.exit(0));
});
