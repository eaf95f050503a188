/**
 * Three Parley instances on one Postgres and one Redis, behind nginx with
 * the shipped deploy/nginx.conf: what one instance stores every other
 * serves, Socket.IO works through nginx on both its transports, and SSE
 * reaches the client event by event.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPostgres, checkRedis, requireService } from '../support/services.js';
import { signToken } from '../support/tokens.js';
import { startCluster, type Cluster } from './cluster-harness.js';
import { checkNginx, startNginx } from './nginx-process.js';

const available =
  (await requireService('PostgreSQL', () => checkPostgres())) &&
  (await requireService('Redis', () => checkRedis())) &&
  (await requireService('nginx', checkNginx));

/** Each piece of a streamed body as it was read, with when. */
interface Arrival {
  at: number;
  text: string;
}

async function readArrivals(response: Response): Promise<Arrival[]> {
  const decoder = new TextDecoder();
  const arrivals: Arrival[] = [];
  for await (const chunk of response.body!) arrivals.push({ at: performance.now(), text: decoder.decode(chunk, { stream: true }) });
  return arrivals;
}

/** Asserts that the arrivals carrying `marker` came in at least `pieces` separate reads spread over at least `spreadMs`. */
function expectSpreadOut(arrivals: Arrival[], marker: string, pieces: number, spreadMs: number): void {
  const carrying = arrivals.filter((arrival) => arrival.text.includes(marker));
  expect(carrying.length).toBeGreaterThanOrEqual(pieces);
  expect(carrying.at(-1)!.at - carrying[0]!.at).toBeGreaterThanOrEqual(spreadMs);
}

interface SocketTurn {
  content: string;
  chunks: number;
  transport: string;
}

/** One seed-001 chat:start on the /ai namespace, followed to its chat:end. */
function chatOverSocket(socket: Socket, message: string): Promise<SocketTurn> {
  return new Promise((resolve, reject) => {
    let content = '';
    let chunks = 0;
    socket.on('chat:message', (piece: { content: string }) => {
      content += piece.content;
      chunks += 1;
    });
    socket.once('chat:end', () => resolve({ content, chunks, transport: socket.io.engine.transport.name }));
    socket.once('chat:error', (error: { message: string }) => reject(new Error(`chat:error ${error.message}`)));
    socket.once('connect_error', reject);
    socket.emit('chat:start', { message });
  });
}

function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
}

/** Rejects after `ms` if the socket is still long-polling: nginx did not pass the WebSocket handshake. */
function upgradedToWebSocket(socket: Socket, ms = 3_000): Promise<void> {
  if (socket.io.engine.transport.name === 'websocket') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still on ${socket.io.engine.transport.name} after ${ms} ms`)), ms);
    socket.io.engine.once('upgrade', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

describe.skipIf(!available)('several Parley instances behind nginx', () => {
  let cluster: Cluster;
  let token: string;

  beforeAll(async () => {
    cluster = await startCluster(3);
    // Tokens 20 ms apart: a reply arrives in several pieces instead of one coalesced write.
    cluster.fake.behaviour.tokenDelayMs = 20;
    token = await signToken('cluster-user');
  });
  afterAll(async () => {
    await cluster?.close();
  });

  const authorized = () => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });

  it('serves a conversation made through instance A from instance B and through nginx', async () => {
    const [a, b] = cluster.instances;
    const created = await fetch(`${a!.url}/api/v1/ai/chat`, {
      method: 'POST',
      headers: authorized(),
      body: JSON.stringify({ message: 'hello from A' }),
    });
    expect(created.status).toBe(200);
    const { conversationId } = (await created.json()) as { conversationId: string };

    for (const url of [b!.url, cluster.url]) {
      const read = await fetch(`${url}/api/v1/ai/conversations/${conversationId}`, { headers: authorized() });
      expect(read.status, url).toBe(200);
      const { messages } = (await read.json()) as { messages: { role: string; content: string }[] };
      expect(messages.map(({ role, content }) => ({ role, content }))).toEqual([
        { role: 'USER', content: 'hello from A' },
        { role: 'ASSISTANT', content: 'You said: hello from A' },
      ]);
    }
  });

  it('runs a chat:start turn through nginx over a socket that upgrades to WebSocket', async () => {
    const socket = io(`${cluster.url}/ai`, { auth: { token }, reconnection: false });
    try {
      await connected(socket);
      // The handshake is long-polling; the upgrade needs nginx to pass Upgrade and Connection.
      await upgradedToWebSocket(socket);
      const turn = await chatOverSocket(socket, 'hello over a websocket');
      expect(turn).toEqual({ content: 'You said: hello over a websocket', chunks: expect.any(Number), transport: 'websocket' });
      expect(turn.chunks).toBeGreaterThan(1);
    } finally {
      socket.disconnect();
    }
  });

  it('runs a chat:start turn through nginx over long-polling alone, which needs sticky sessions', async () => {
    const socket = io(`${cluster.url}/ai`, { auth: { token }, reconnection: false, transports: ['polling'] });
    try {
      await connected(socket);
      // Every poll of the session must reach the instance that opened it, or it answers 400 "Session ID unknown".
      const turns = [];
      for (let turn = 1; turn <= 3; turn++) turns.push(await chatOverSocket(socket, `poll ${turn}`));
      expect(turns.map((turn) => turn.content)).toEqual(['You said: poll 1', 'You said: poll 2', 'You said: poll 3']);
      expect(turns.every((turn) => turn.transport === 'polling')).toBe(true);
    } finally {
      socket.disconnect();
    }
  });

  it('streams POST /v1/chat/completions through nginx token by token, not buffered into one piece', async () => {
    const before = cluster.fake.behaviour;
    cluster.fake.behaviour = { ...before, reply: 'one two three four five six', tokenDelayMs: 80 };
    try {
      const response = await fetch(`${cluster.url}/v1/chat/completions`, {
        method: 'POST',
        headers: authorized(),
        body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'count' }] }),
      });
      expect(response.status).toBe(200);
      const arrivals = await readArrivals(response);
      expect(arrivals.map((arrival) => arrival.text).join('')).toContain('data: [DONE]');
      // Six tokens 80 ms apart: unbuffered, their events arrive in separate reads across ~400 ms.
      expectSpreadOut(arrivals, '"content":"', 5, 250);
    } finally {
      cluster.fake.behaviour = before;
    }
  });
});

/** An event stream with none of Parley's anti-buffering headers: one event every `intervalMs`. */
async function startBareEventStream(events: number, intervalMs: number): Promise<Server> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    let sent = 0;
    const timer = setInterval(() => {
      response.write(`data: event ${++sent}\n\n`);
      if (sent === events) {
        clearInterval(timer);
        response.end();
      }
    }, intervalMs);
    response.once('close', () => clearInterval(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

describe.skipIf(!available)('the shipped nginx config on its own', () => {
  it('passes a compressed event stream on event by event even when the upstream does not send X-Accel-Buffering: no', async () => {
    const upstream = await startBareEventStream(6, 80);
    const nginx = await startNginx([`127.0.0.1:${(upstream.address() as AddressInfo).port}`]);
    try {
      const response = await fetch(`${nginx.url}/v1/chat/completions`, { method: 'POST' });
      expect(response.status).toBe(200);
      expectSpreadOut(await readArrivals(response), 'data: event', 5, 250);
    } finally {
      await nginx.stop();
      await new Promise((resolve) => upstream.close(resolve));
    }
  });
});
