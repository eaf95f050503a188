import { io, type Socket } from 'socket.io-client';

/** What one client turn came to, as the soak counts it. */
export type TurnOutcome = 'complete' | 'stopped' | 'error';

/** Counts and latencies since the last window was taken. */
export class SoakTally {
  private latencies: number[] = [];
  private counts = { complete: 0, stopped: 0, error: 0 };
  /** Turns the server acknowledged (it answered 2xx or sent a first event), over the whole run. */
  acknowledged = 0;
  /** The first few errors, for the report. */
  readonly errorSamples: string[] = [];

  record(outcome: TurnOutcome, startedAt: number, detail?: string): void {
    this.counts[outcome] += 1;
    if (outcome === 'complete') this.latencies.push(performance.now() - startedAt);
    if (outcome === 'error' && detail !== undefined && this.errorSamples.length < 10) this.errorSamples.push(detail);
  }

  takeWindow(): { counts: SoakTally['counts']; latencies: number[] } {
    const window = { counts: this.counts, latencies: this.latencies };
    this.counts = { complete: 0, stopped: 0, error: 0 };
    this.latencies = [];
    return window;
  }
}

export interface SoakClientOptions {
  url: string;
  tally: SoakTally;
  /** Share of turns the client stops midway (aborts, `chat:stop`, `interrupt`). */
  stopShare: number;
  /** A socket client disconnects and connects again after this many turns. */
  turnsPerConnection: number;
  isRunning: () => boolean;
}

/** One kind of client, running turns one after another until the soak ends. */
export type SoakClient = (options: SoakClientOptions, index: number) => Promise<void>;

const json = { 'content-type': 'application/json' };

/** A streamed HTTP turn: read until the end, or abort after the first chunk when this turn is one to stop. */
async function streamedTurn(options: SoakClientOptions, url: string, body: unknown, endMarker: string): Promise<void> {
  const startedAt = performance.now();
  const stop = Math.random() < options.stopShare;
  const controller = new AbortController();
  try {
    const response = await fetch(url, { method: 'POST', headers: json, body: JSON.stringify(body), signal: controller.signal });
    if (!response.ok) return options.tally.record('error', startedAt, `${url} ${response.status} ${await response.text()}`);
    options.tally.acknowledged += 1;
    const reader = response.body!.getReader();
    let text = '';
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      if (stop) {
        controller.abort();
        return options.tally.record('stopped', startedAt);
      }
      text += new TextDecoder().decode(read.value);
    }
    if (text.includes('"error"')) return options.tally.record('error', startedAt, `${url} ${text.slice(-300)}`);
    options.tally.record(text.includes(endMarker) ? 'complete' : 'error', startedAt, `${url} ended without ${endMarker}`);
  } catch (error) {
    if (controller.signal.aborted) return options.tally.record('stopped', startedAt);
    options.tally.record('error', startedAt, `${url} ${(error as Error).message}`);
  }
}

/** `/v1/chat/completions`, streamed: what OpenAI clients send. */
export const openaiClient: SoakClient = async (options) => {
  while (options.isRunning()) {
    await streamedTurn(
      options,
      `${options.url}/v1/chat/completions`,
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Tell me something.' }], stream: true },
      '[DONE]',
    );
  }
};

/** Seed 001's `POST /api/v1/ai/chat`, continuing one conversation, and reading it back now and then. */
export const aiModuleClient: SoakClient = async (options) => {
  let conversationId: string | undefined;
  for (let turn = 0; options.isRunning(); turn += 1) {
    const startedAt = performance.now();
    try {
      const response = await fetch(`${options.url}/api/v1/ai/chat`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ message: `question ${turn}`, ...(conversationId === undefined ? {} : { conversationId }) }),
      });
      const body = (await response.json()) as { conversationId?: string };
      if (!response.ok) {
        options.tally.record('error', startedAt, `ai chat ${response.status} ${JSON.stringify(body)}`);
        continue;
      }
      options.tally.acknowledged += 1;
      options.tally.record('complete', startedAt);
      conversationId = body.conversationId;
      // A long conversation's history grows without bound; start a new one now and then, as people do.
      if (turn % 20 === 19) conversationId = undefined;
      if (turn % 5 === 0 && conversationId !== undefined)
        await (await fetch(`${options.url}/api/v1/ai/conversations/${conversationId}`)).arrayBuffer();
    } catch (error) {
      options.tally.record('error', startedAt, `ai chat ${(error as Error).message}`);
    }
  }
};

/** Seed 002's session messages streamed as SSE (answered by the Anthropic provider). */
export const chatSessionsClient: SoakClient = async (options) => {
  let sessionId: string | undefined;
  for (let turn = 0; options.isRunning(); turn += 1) {
    if (sessionId === undefined || turn % 20 === 0) {
      const created = await fetch(`${options.url}/api/v1/chat/sessions`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ title: 'soak' }),
      });
      sessionId = ((await created.json()) as { id: string }).id;
    }
    await streamedTurn(
      options,
      `${options.url}/api/v1/chat/messages?stream=true`,
      { session_id: sessionId, content: `question ${turn}` },
      '"done"',
    );
  }
};

/** Seed 003's SSE, one session per client, renewed every 20 turns. */
export const streamV2SseClient: SoakClient = async (options) => {
  let sessionId = crypto.randomUUID();
  for (let turn = 0; options.isRunning(); turn += 1) {
    if (turn % 20 === 19) sessionId = crypto.randomUUID();
    await streamedTurn(options, `${options.url}/api/v2/ai/chat/stream`, { message: `question ${turn}`, sessionId }, '"done":true');
  }
};

/** Connects a socket and resolves once it is connected. */
async function connected(url: string): Promise<Socket> {
  const socket = io(url, { forceNew: true, transports: ['websocket'], reconnection: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  return socket;
}

interface SocketTurn {
  /** Emits the turn's request on `socket`. */
  send(socket: Socket, turn: number): void;
  /** Stops the turn (the surface's stop event), or undefined to stop by disconnecting. */
  stop?(socket: Socket): void;
  /** Server events that end a turn well, and that end it with an error. */
  done: string[];
  failed: string[];
  /** The first event of a turn: the server has acknowledged it. */
  first: string;
  /** The event that ends a stopped turn, when the surface answers a stop with something other than `done`. */
  stopped?: (event: string, payload: unknown) => boolean;
}

/** Turns on a socket, one at a time, reconnecting every `turnsPerConnection` turns and stopping some midway. */
function socketClient(namespace: string, shape: SocketTurn): SoakClient {
  return async (options) => {
    let socket: Socket | undefined;
    for (let turn = 0; options.isRunning(); turn += 1) {
      const startedAt = performance.now();
      try {
        if (socket === undefined || turn % options.turnsPerConnection === 0) {
          socket?.close();
          socket = await connected(`${options.url}${namespace}`);
        }
        const live = socket;
        const stop = Math.random() < options.stopShare;
        let stopSent = false;
        let acknowledged = false;
        const outcome = await new Promise<TurnOutcome | string>((resolve) => {
          const timer = setTimeout(() => resolve('no answer within 30 s'), 30_000);
          const finish = (value: TurnOutcome | string) => {
            clearTimeout(timer);
            live.offAny(listener);
            live.off('disconnect', disconnected);
            resolve(value);
          };
          const disconnected = (reason: string) => finish(`disconnected: ${reason}`);
          const listener = (event: string, payload: unknown) => {
            if (event === shape.first && !acknowledged) {
              acknowledged = true;
              options.tally.acknowledged += 1;
              if (stop) {
                if (shape.stop === undefined) {
                  // Finished first: closing emits disconnect, which would end the turn as an error.
                  finish('stopped');
                  live.close();
                  socket = undefined;
                  return;
                }
                shape.stop(live);
                stopSent = true;
              }
            }
            if (stopSent && shape.stopped?.(event, payload)) finish('stopped');
            else if (shape.done.includes(event)) finish(stop ? 'stopped' : 'complete');
            else if (shape.failed.includes(event)) finish(stop ? 'stopped' : `${event} ${JSON.stringify(payload)}`);
          };
          live.onAny(listener);
          live.once('disconnect', disconnected);
          shape.send(live, turn);
        });
        if (outcome === 'complete' || outcome === 'stopped') options.tally.record(outcome, startedAt);
        else {
          options.tally.record('error', startedAt, `${namespace} ${outcome}`);
          socket?.close();
          socket = undefined;
        }
      } catch (error) {
        options.tally.record('error', startedAt, `${namespace} ${(error as Error).message}`);
        socket = undefined;
      }
    }
    socket?.close();
  };
}

/** Seed 003's `ai:chat` on the default namespace; its stop is leaving. */
export const streamV2SocketClient = socketClient('/', {
  send: (socket, turn) => socket.emit('ai:chat', { message: `question ${turn}` }),
  first: 'ai:stream',
  done: ['ai:complete'],
  failed: ['ai:error'],
});

/** Seed 001's `chat:start` on /ai, stopped with `chat:stop`. */
export const aiNamespaceClient = socketClient('/ai', {
  send: (socket, turn) => socket.emit('chat:start', { message: `question ${turn}` }),
  stop: (socket) => socket.emit('chat:stop'),
  first: 'chat:message',
  done: ['chat:end', 'chat:stopped'],
  failed: ['chat:error'],
});

/** Seed 000's `ai_request`, streamed; its stop is leaving. */
export const assistantClient = socketClient('/ai', {
  send: (socket, turn) => socket.emit('ai_request', { requestId: `r${turn}`, prompt: `question ${turn}`, stream: true }),
  first: 'ai_stream_start',
  done: ['ai_response', 'ai_stream_end'],
  failed: ['ai_error'],
});

/** Seed 004's `text-message`, answered in text and speech; stopped with `interrupt`. */
export const voiceClient = socketClient('/', {
  send: (socket, turn) => socket.emit('text-message', `question ${turn}`),
  stop: (socket) => socket.emit('interrupt'),
  // An interrupted reply is never sent: the typing indicator going off ends the turn.
  stopped: (event, payload) => event === 'ai-typing' && (payload as { isTyping?: boolean }).isTyping === false,
  first: 'message-received',
  done: ['ai-response'],
  failed: ['error'],
});

export const soakClients: Record<string, SoakClient> = {
  'openai /v1': openaiClient,
  'seed 000 ai_request': assistantClient,
  'seed 001 REST': aiModuleClient,
  'seed 001 chat:start': aiNamespaceClient,
  'seed 002 SSE': chatSessionsClient,
  'seed 003 SSE': streamV2SseClient,
  'seed 003 socket': streamV2SocketClient,
  'seed 004 voice': voiceClient,
};
