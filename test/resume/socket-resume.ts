import { io, type Socket } from 'socket.io-client';
import { expect } from 'vitest';
import { CuttableRelay } from '../support/cuttable-relay.js';

export interface CutOptions {
  /** The instance the client connects to, through a relay that is then cut. */
  from: { host: string; port: number };
  /** Where the relay leads once restored, when another instance (a load balancer sending the client elsewhere). */
  to?: { host: string; port: number };
  cutMs: number;
  token: string;
  /** The test closes these after it. */
  sockets: Socket[];
}

/**
 * Seed 000's client as written (default transports and reconnection) asks
 * for a streamed reply; its network is cut for `cutMs` after the third
 * chunk, then restored. Asserts that it recovered its connection state and
 * got `reply` whole, every chunk once.
 */
export async function expectEveryChunkAcrossACut(options: CutOptions, reply: string): Promise<void> {
  const relay = await CuttableRelay.start(options.from);
  try {
    const socket = io(`http://127.0.0.1:${relay.port}/ai`, { auth: { token: options.token } });
    options.sockets.push(socket);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const texts: string[] = [];
    let recovered = false;
    socket.on('connect', () => (recovered = socket.recovered));
    socket.on('ai_stream_chunk', (payload: { chunk: { text: string } }) => texts.push(payload.chunk.text));
    const ended = new Promise<{ response: string }>((resolve) => socket.once('ai_stream_end', resolve));
    socket.emit('ai_request', { requestId: 'r1', prompt: 'go', stream: true });
    await expect.poll(() => texts.length, { timeout: 5000 }).toBeGreaterThanOrEqual(3);
    relay.cut();
    await new Promise((resolve) => setTimeout(resolve, options.cutMs));
    relay.restore(options.to);
    const { response } = await ended;
    expect(recovered).toBe(true);
    expect(texts.join('')).toBe(reply);
    expect(response).toBe(reply);
  } finally {
    await relay.close();
  }
}

/**
 * Seed 001's `chat:start` on a socket to `from` (a Socket.IO URL's base),
 * which disconnects after five chunks; a new socket to `to` sends
 * `turn:resume { turnId, after }`. Asserts that it got the chunks after
 * `after`, in order, then chat:end, and the reply whole.
 */
export async function expectChatResumedOnNewSocket(
  options: { from: string; to: string; token: string; sockets: Socket[] },
  reply: string,
): Promise<void> {
  const connect = (base: string) => {
    const socket = io(`${base}/ai`, { auth: { token: options.token }, transports: ['websocket'], reconnection: false, forceNew: true });
    options.sockets.push(socket);
    return socket;
  };
  const first = connect(options.from);
  const chunks: { content: string; messageId: string; seq: number }[] = [];
  first.on('chat:message', (chunk) => chunks.push(chunk));
  first.emit('chat:start', { message: 'go' });
  await expect.poll(() => chunks.length, { timeout: 5000 }).toBeGreaterThanOrEqual(5);
  first.disconnect();
  const { messageId, seq } = chunks.at(-1)!;
  const second = connect(options.to);
  const rest: { content: string; seq: number }[] = [];
  second.on('chat:message', (chunk) => rest.push(chunk));
  const ended = new Promise<{ messageId: string }>((resolve) => second.once('chat:end', resolve));
  second.emit('turn:resume', { turnId: messageId, after: seq });
  expect((await ended).messageId).toBe(messageId);
  expect(rest[0]!.seq).toBe(seq + 1);
  expect(rest.every((chunk, index) => index === 0 || chunk.seq > rest[index - 1]!.seq)).toBe(true);
  expect([...chunks, ...rest].map((chunk) => chunk.content).join('')).toBe(reply);
}
