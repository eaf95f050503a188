import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { socketEventTable } from '../../src/app/socket-surfaces.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { RecordedSocket } from './recorded-socket.js';
import { probesFor } from './socket-probes.js';
import { overLimit, wireLimitsOf, type WireLimits } from './wire-limits.js';

/**
 * The socket fuzz expects a connection to be closed exactly when it sent a
 * frame over maxHttpBufferSize or a packet with more attachments than
 * socket.io-parser takes (wire-limits.ts). These pin both thresholds to the
 * byte and the attachment, on every namespace: one under is answered, one
 * over closes that connection alone, and the server goes on serving.
 */

const { maxMessageChars } = loadConfig({}).limits;
const namespaces = [...new Set(socketEventTable.map(({ namespace }) => namespace))];
const answerTimeoutMs = 3_000;
let server: TestServer;
let limits: WireLimits;
const open: RecordedSocket[] = [];

beforeAll(async () => {
  server = await startTestServer();
  limits = wireLimitsOf(server.app.io);
});

afterAll(async () => {
  for (const socket of open) socket.close();
  await server?.close();
});

async function connect(namespace: string): Promise<RecordedSocket> {
  const socket = await RecordedSocket.open(server.url, namespace, {});
  open.push(socket);
  return socket;
}

/**
 * Sends the namespace's probe with a message long enough that its frame is
 * exactly `frameBytes`, and resolves with whether it was answered (true) or
 * the connection was closed (false).
 */
async function probeOfFrameSize(socket: RecordedSocket, namespace: string, frameBytes: number): Promise<boolean> {
  // The probe's frame is its message plus a fixed overhead (the same marker keeps it fixed); measure it with a short probe first.
  const short = probesFor(maxMessageChars)[namespace]!;
  await answered(socket, short, 'sized');
  const overhead = socket.sent.at(-1)!.bytes - (maxMessageChars + 1);
  const sized = probesFor(frameBytes - overhead - 1)[namespace]!;
  const before = socket.sent.length;
  const outcome = answered(socket, sized, 'sized');
  expect(socket.sent.slice(before).map((frame) => frame.bytes)).toEqual([frameBytes]);
  return outcome;
}

async function answered(socket: RecordedSocket, probe: ReturnType<typeof probesFor>[string], marker: string): Promise<boolean> {
  const from = socket.received.length;
  probe.emit(socket, marker);
  return socket
    .waitFor(from, (event) => probe.answers(event, marker), answerTimeoutMs, `answer to ${marker}`)
    .then(
      () => true,
      async () => {
        expect(await socket.disconnected(answerTimeoutMs)).toBe('transport close');
        return false;
      },
    );
}

describe.each(namespaces)('Socket.IO wire limits on %s', (namespace) => {
  const anEvent = Object.keys(socketEventTable.find((entry) => entry.namespace === namespace)!.events)[0]!;

  it('answers a frame of exactly maxHttpBufferSize bytes', async () => {
    const socket = await connect(namespace);
    expect(await probeOfFrameSize(socket, namespace, limits.maxFrameBytes)).toBe(true);
    expect(socket.connected).toBe(true);
  });

  it('closes the connection that sends one byte more, and only that one', async () => {
    const bystander = await connect(namespace);
    const socket = await connect(namespace);
    expect(await probeOfFrameSize(socket, namespace, limits.maxFrameBytes + 1)).toBe(false);
    expect(overLimit(socket.sent, limits)).toContain('over maxHttpBufferSize');
    const probe = probesFor(maxMessageChars)[namespace]!;
    expect(await answered(bystander, probe, 'bystander')).toBe(true);
    expect(await answered(await connect(namespace), probe, 'fresh')).toBe(true);
  });

  it.each([
    ['answers', 0, true],
    ['closes the connection of', 1, false],
  ])('%s a packet with maxAttachments + %i small binary parts', async (_, extra, served) => {
    const socket = await connect(namespace);
    const parts = Array.from({ length: limits.maxAttachments + extra }, (_, index) => Buffer.from([index]));
    socket.emit(anEvent, [parts], false);
    expect(Math.max(...socket.sent.map((frame) => frame.bytes))).toBeLessThan(3_000);
    expect(await answered(socket, probesFor(maxMessageChars)[namespace]!, 'after-parts')).toBe(served);
  });
});
