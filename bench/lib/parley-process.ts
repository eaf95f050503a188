import { startNodeProcess, type RunningProcess } from './child-process.js';
import { freePort } from './free-port.js';

export interface ParleyProcess extends RunningProcess {
  url: string;
}

/** Every limit that would throttle a load generator, off. */
const UNLIMITED = {
  RATE_LIMIT_DEFAULT: '0/60',
  RATE_LIMIT_DEFAULT_ANONYMOUS: '0/60',
  RATE_LIMIT_AI_MODULE: '0/60',
  RATE_LIMIT_STREAM_V2: '0/60',
  RATE_LIMIT_STREAM_V2_ANONYMOUS: '0/60',
  RATE_LIMIT_CHAT_SESSIONS: '0/60',
  MAX_CONCURRENT_TURNS_PER_USER: '0',
  TOKEN_BUDGET_LIFETIME: '0',
};

/**
 * Starts Parley (src/main.ts) in its own process, in single-user local mode,
 * against `databaseUrl` and the fake upstream at `openaiBaseUrl`.
 */
export async function startParley(options: {
  databaseUrl: string;
  openaiBaseUrl: string;
  env?: Record<string, string>;
  nodeArgs?: string[];
}): Promise<ParleyProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const parley = await startNodeProcess('src/main.ts', {
    env: {
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      DATABASE_URL: options.databaseUrl,
      OPENAI_API_KEY: 'sk-bench',
      OPENAI_BASE_URL: options.openaiBaseUrl,
      ...UNLIMITED,
      ...options.env,
    },
    // "Parley is ready" is logged at info, which LOG_LEVEL=warn hides: /health tells when it listens.
    ...(options.nodeArgs && { nodeArgs: options.nodeArgs }),
  });
  // Parley logs at warn to stdout: pass those lines on, and say so if it dies mid-run.
  parley.process.stdout!.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  let stopping = false;
  parley.process.once('exit', (code, signal) => {
    if (!stopping) process.stderr.write(`Parley (pid ${parley.pid}) exited unexpectedly: ${signal ?? `code ${code}`}\n`);
  });
  try {
    await waitForHealth(url);
  } catch (error) {
    stopping = true;
    await parley.stop();
    throw error;
  }
  return {
    ...parley,
    url,
    stop() {
      stopping = true;
      return parley.stop();
    },
  };
}

async function waitForHealth(url: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(`${url}/health`);
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`Parley at ${url} did not answer /health within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
