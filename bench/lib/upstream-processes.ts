import type { Behaviour } from '../../test/support/fake-upstream.js';
import { startNodeProcess, type RunningProcess } from './child-process.js';

export interface UrlProcess extends RunningProcess {
  url: string;
}

/** The fake OpenAI/Anthropic upstream in a process of its own. */
export async function startFakeUpstream(behaviour: Partial<Behaviour>): Promise<UrlProcess> {
  const fake = await startNodeProcess('bench/lib/fake-upstream-process.ts', {
    env: { FAKE_BEHAVIOUR: JSON.stringify(behaviour) },
    readyPattern: /^FAKE_UPSTREAM /,
  });
  return { ...fake, url: fake.readyLine.split(' ')[1]!.trim(), stop: fake.stop };
}

/** bench/byte-proxy.ts in front of `upstreamUrl`. */
export async function startByteProxy(upstreamUrl: string, nodeArgs?: string[]): Promise<UrlProcess> {
  const proxy = await startNodeProcess('bench/byte-proxy.ts', {
    env: { UPSTREAM_URL: upstreamUrl },
    readyPattern: /^BYTE_PROXY /,
    ...(nodeArgs && { nodeArgs }),
  });
  return { ...proxy, url: proxy.readyLine.split(' ')[1]!.trim(), stop: proxy.stop };
}

/** Stops processes in reverse start order, each even if another failed to stop. */
export async function stopAll(processes: (RunningProcess | undefined)[]): Promise<void> {
  for (const running of [...processes].reverse()) {
    try {
      await running?.stop();
    } catch (error) {
      console.error('could not stop a process:', error);
    }
  }
}
