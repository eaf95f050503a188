/**
 * One driver per streaming surface for the fault matrix: each starts a turn
 * the way that surface's clients do, reads until its end or error event, and
 * can leave or stop at a chosen moment. A driver reports what the client saw;
 * the matrix checks it and what was stored.
 */
import { io, type Socket } from 'socket.io-client';

/** How the turn ended for the client. */
export type Ending =
  | { kind: 'end' }
  | { kind: 'error'; code: string }
  | { kind: 'stopped' }
  /** The client left (closed its connection) as planned. */
  | { kind: 'left' }
  | { kind: 'silence' };

export interface TurnRun {
  ending: Ending;
  /** The reply text the client received. */
  text: string;
  /** Answers to stops (chat:stopped, …), for the surfaces that send one. */
  stopAnswers: number;
}

export interface ClientPlan {
  /** The user message; unique per cell, so the matrix finds the turn's rows by it. */
  message: string;
  /** Leave when the turn is acknowledged (before any token), at the first token, or right after the end event. */
  leave?: 'acknowledged' | 'first-token' | 'after-end';
  /** Stops sent at the first token (for surfaces without a stop, a stop is leaving). */
  stops?: number;
  /** A stop sent once the turn has ended. */
  stopAfterEnd?: boolean;
}

export interface SurfaceDriver {
  name: string;
  /** Whether the surface has a stop of its own (an event); otherwise a stop is leaving. */
  hasStop: boolean;
  /** The provider answering it: seed 002 is on Claude. */
  provider: 'openai' | 'anthropic';
  /** Whether the client receives the reply as it is generated (seed 001's REST and seed 004 send it whole, at the end). */
  streamsText: boolean;
  run(baseUrl: string, plan: ClientPlan): Promise<TurnRun>;
}

const answerTimeoutMs = 8_000;

interface SseShape {
  path: string;
  /** Prepares the turn (a session to post into) and returns the request body. */
  body(baseUrl: string, message: string): Promise<unknown>;
  token(data: Record<string, any>): string | undefined;
  isEnd(data: Record<string, any> | '[DONE]'): boolean;
  errorCode(data: Record<string, any>): string | undefined;
}

function sseDriver(name: string, provider: SurfaceDriver['provider'], shape: SseShape): SurfaceDriver {
  return {
    name,
    hasStop: false,
    provider,
    streamsText: true,
    async run(baseUrl, plan) {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), answerTimeoutMs);
      let text = '';
      const left = (): TurnRun => {
        controller.abort();
        return { ending: { kind: 'left' }, text, stopAnswers: 0 };
      };
      try {
        const response = await fetch(`${baseUrl}${shape.path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
          body: JSON.stringify(await shape.body(baseUrl, plan.message)),
          signal: controller.signal,
        });
        if (!response.ok) {
          const body = (await response.json()) as { error?: { code?: string } };
          return { ending: { kind: 'error', code: String(body.error?.code) }, text, stopAnswers: 0 };
        }
        if (plan.leave === 'acknowledged') return left();
        const reader = response.body!.getReader();
        const decoder = new TextDecoder();
        let buffered = '';
        for (let read = await reader.read(); !read.done; read = await reader.read()) {
          buffered += decoder.decode(read.value, { stream: true });
          const lines = buffered.split('\n');
          buffered = lines.pop()!;
          for (const line of lines) {
            if (!line.startsWith('data: ')) continue;
            const raw = line.slice(6);
            const data = raw === '[DONE]' ? '[DONE]' : (JSON.parse(raw) as Record<string, any>);
            if (data !== '[DONE]') {
              const code = shape.errorCode(data);
              if (code !== undefined) return { ending: { kind: 'error', code }, text, stopAnswers: 0 };
              const token = shape.token(data);
              if (token !== undefined) {
                text += token;
                if (plan.leave === 'first-token' || (plan.stops ?? 0) > 0) {
                  // A stop over HTTP is the client aborting; a second abort must change nothing.
                  for (let stop = 1; stop < (plan.stops ?? 1); stop += 1) controller.abort();
                  return left();
                }
              }
            }
            if (shape.isEnd(data)) {
              if (plan.leave === 'after-end' || plan.stopAfterEnd) return left();
              return { ending: { kind: 'end' }, text, stopAnswers: 0 };
            }
          }
        }
        return { ending: { kind: 'silence' }, text, stopAnswers: 0 };
      } catch (error) {
        if (controller.signal.aborted) return { ending: { kind: 'silence' }, text, stopAnswers: 0 };
        throw error;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

interface SocketShape {
  namespace: string;
  send(socket: Socket, message: string): void;
  /** The first event of an acknowledged turn; without one, the turn counts as acknowledged 100 ms after it was sent. */
  acknowledged?: string;
  token?: { event: string; text(payload: any): string };
  end: string;
  /** The end event's reply text, for surfaces that send no tokens. */
  endText?(payload: any): string;
  error: string;
  stop?: { send(socket: Socket): void; answer?: string; ended?(event: string, payload: any): boolean };
}

function socketDriver(name: string, shape: SocketShape): SurfaceDriver {
  return {
    name,
    hasStop: shape.stop !== undefined,
    provider: 'openai',
    streamsText: shape.token !== undefined,
    async run(baseUrl, plan) {
      const socket = io(`${baseUrl}${shape.namespace}`, { forceNew: true, transports: ['websocket'], reconnection: false });
      let text = '';
      let stopAnswers = 0;
      try {
        await new Promise<void>((resolve, reject) => {
          socket.once('connect', resolve);
          socket.once('connect_error', reject);
        });
        const ending = await new Promise<Ending>((resolve) => {
          const timer = setTimeout(() => resolve({ kind: 'silence' }), answerTimeoutMs);
          let stopsSent = false;
          const finish = (ending: Ending) => {
            clearTimeout(timer);
            resolve(ending);
          };
          const leave = () => {
            socket.close();
            finish({ kind: 'left' });
          };
          const stopNow = (count: number) => {
            if (shape.stop === undefined) return leave();
            stopsSent = true;
            for (let stop = 0; stop < count; stop += 1) shape.stop.send(socket);
          };
          // At the first token, or, for a surface that sends none, a moment after the turn is acknowledged.
          const firstToken = () => {
            if (plan.leave === 'first-token') leave();
            else if ((plan.stops ?? 0) > 0 && !stopsSent) stopNow(plan.stops!);
          };
          socket.onAny((event: string, payload: any) => {
            if (event === shape.acknowledged) {
              if (plan.leave === 'acknowledged') return leave();
              // The matrix's replies start 300 ms after the request.
              if (shape.token === undefined) setTimeout(firstToken, 450);
            }
            if (shape.token !== undefined && event === shape.token.event) {
              text += shape.token.text(payload);
              firstToken();
            }
            if (shape.stop?.answer !== undefined && event === shape.stop.answer) {
              stopAnswers += 1;
              if (stopsSent && !plan.stopAfterEnd) return finish({ kind: 'stopped' });
            }
            if (stopsSent && !plan.stopAfterEnd && shape.stop?.ended?.(event, payload)) return finish({ kind: 'stopped' });
            if (event === shape.end) {
              text = shape.endText?.(payload) ?? text;
              if (plan.leave === 'after-end') return leave();
              if (plan.stopAfterEnd && shape.stop !== undefined) {
                stopNow(1);
                // What a stop for a finished turn gets: its answer, or nothing, within a moment.
                return void setTimeout(() => finish({ kind: 'end' }), 200);
              }
              return finish({ kind: 'end' });
            }
            if (event === shape.error) finish({ kind: 'error', code: String(payload?.code) });
          });
          shape.send(socket, plan.message);
          if (shape.acknowledged === undefined && plan.leave === 'acknowledged') setTimeout(leave, 100);
        });
        return { ending, text, stopAnswers };
      } finally {
        socket.close();
      }
    },
  };
}

async function newSession(baseUrl: string): Promise<string> {
  const response = await fetch(`${baseUrl}/api/v1/chat/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'fault matrix' }),
  });
  return ((await response.json()) as { id: string }).id;
}

/** Seed 001's `POST /api/v1/ai/chat`: the whole reply in one JSON answer, so leaving is timed, not read. */
const aiModuleRest: SurfaceDriver = {
  name: 'seed 001 REST',
  hasStop: false,
  provider: 'openai',
  streamsText: false,
  async run(baseUrl, plan) {
    const controller = new AbortController();
    // The matrix's replies start after 300 ms and take a token every 20 ms.
    const leaveAfterMs = plan.leave === 'acknowledged' ? 100 : plan.leave === 'first-token' || (plan.stops ?? 0) > 0 ? 400 : undefined;
    const leaving = leaveAfterMs === undefined ? undefined : setTimeout(() => controller.abort(), leaveAfterMs);
    try {
      const response = await fetch(`${baseUrl}/api/v1/ai/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message: plan.message }),
        signal: AbortSignal.any([controller.signal, AbortSignal.timeout(answerTimeoutMs)]),
      });
      const body = (await response.json()) as { content?: string; error?: { code?: string } };
      if (!response.ok) return { ending: { kind: 'error', code: String(body.error?.code) }, text: '', stopAnswers: 0 };
      return { ending: plan.leave === 'after-end' ? { kind: 'left' } : { kind: 'end' }, text: body.content ?? '', stopAnswers: 0 };
    } catch (error) {
      if (controller.signal.aborted) return { ending: { kind: 'left' }, text: '', stopAnswers: 0 };
      return { ending: { kind: 'silence' }, text: '', stopAnswers: 0 };
    } finally {
      clearTimeout(leaving);
    }
  },
};

export const streamingSurfaces: SurfaceDriver[] = [
  sseDriver('OpenAI /v1 SSE', 'openai', {
    path: '/v1/chat/completions',
    body: async (_, message) => ({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: message }], stream: true }),
    token: (data) => data.choices?.[0]?.delta?.content || undefined,
    isEnd: (data) => data === '[DONE]',
    errorCode: (data) => data.error?.code,
  }),
  socketDriver('seed 000 ai_request', {
    namespace: '/ai',
    send: (socket, message) => socket.emit('ai_request', { requestId: 'r1', prompt: message, stream: true }),
    acknowledged: 'ai_stream_start',
    token: { event: 'ai_stream_chunk', text: (payload) => payload.chunk.text },
    end: 'ai_stream_end',
    error: 'ai_error',
  }),
  aiModuleRest,
  socketDriver('seed 001 chat:start', {
    namespace: '/ai',
    send: (socket, message) => socket.emit('chat:start', { message }),
    acknowledged: 'chat:user-message',
    token: { event: 'chat:message', text: (payload) => payload.content },
    end: 'chat:end',
    error: 'chat:error',
    stop: { send: (socket) => socket.emit('chat:stop'), answer: 'chat:stopped' },
  }),
  sseDriver('seed 002 SSE', 'anthropic', {
    path: '/api/v1/chat/messages?stream=true',
    body: async (baseUrl, message) => ({ session_id: await newSession(baseUrl), content: message }),
    token: (data) => (data.type === 'delta' ? data.content : undefined),
    isEnd: (data) => data !== '[DONE]' && data.type === 'done',
    errorCode: (data) => (data.type === 'error' ? data.code : undefined),
  }),
  sseDriver('seed 003 SSE', 'openai', {
    path: '/api/v2/ai/chat/stream',
    body: async (_, message) => ({ message }),
    token: (data) => (typeof data.content === 'string' ? data.content : undefined),
    isEnd: (data) => data !== '[DONE]' && data.done === true,
    errorCode: (data) => (data.error !== undefined ? String(data.code) : undefined),
  }),
  socketDriver('seed 003 ai:chat', {
    namespace: '/',
    send: (socket, message) => socket.emit('ai:chat', { message }),
    token: { event: 'ai:stream', text: (payload) => payload.content },
    end: 'ai:complete',
    error: 'ai:error',
  }),
  socketDriver('seed 004 voice', {
    namespace: '/',
    send: (socket, message) => socket.emit('text-message', message),
    acknowledged: 'message-received',
    end: 'ai-response',
    endText: (payload) => payload.text ?? payload.response ?? '',
    error: 'error',
    // An interrupted reply is never sent: the typing indicator going off ends the turn.
    stop: { send: (socket) => socket.emit('interrupt'), ended: (event, payload) => event === 'ai-typing' && payload?.isTyping === false },
  }),
];
