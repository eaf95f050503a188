/**
 * Several socket-clients.ts processes driven as one: connections and streams
 * are split evenly over them, replies gathered.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { SocketClientsCommand, SocketClientsReply } from './socket-clients.js';

type StreamCommand = Extract<SocketClientsCommand, { type: 'stream' }>;
type Streamed = Extract<SocketClientsReply, { type: 'streamed' }>;
type Connected = Extract<SocketClientsReply, { type: 'connected' }>;

export interface SocketClientWorkers {
  pids: number[];
  /** With `jwtSecret`, every socket signs in as a user of its own. */
  connect(url: string, total: number, concurrencyPerWorker: number, jwtSecret?: string): Promise<Connected>;
  /** `streams` streams in all, started `staggerMs` apart across the workers. */
  stream(options: Omit<StreamCommand, 'type' | 'streams' | 'offsetMs'> & { streams: number }): Promise<Streamed>;
  close(): Promise<void>;
}

export async function startSocketClientWorkers(count: number): Promise<SocketClientWorkers> {
  const children: ChildProcess[] = [];
  const request = async <T extends SocketClientsReply>(child: ChildProcess, command: SocketClientsCommand): Promise<T> => {
    const reply = once(child, 'message') as Promise<[T]>;
    child.send(command);
    return (await reply)[0];
  };
  for (let index = 0; index < count; index++) {
    children.push(
      fork('bench/lib/socket-clients.ts', [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    );
  }
  const share = (total: number, index: number) => Math.floor(total / count) + (index < total % count ? 1 : 0);
  return {
    pids: children.map((child) => child.pid!),
    async connect(url, total, concurrencyPerWorker, jwtSecret) {
      const replies = await Promise.all(
        children.map((child, index) =>
          request<Connected>(child, {
            type: 'connect',
            url,
            count: share(total, index),
            concurrency: concurrencyPerWorker,
            ...(jwtSecret !== undefined && { jwtSecret }),
          }),
        ),
      );
      return {
        type: 'connected',
        connected: replies.reduce((sum, reply) => sum + reply.connected, 0),
        failed: replies.reduce((sum, reply) => sum + reply.failed, 0),
        ...(replies.find((reply) => reply.firstError) && { firstError: replies.find((reply) => reply.firstError)!.firstError! }),
      };
    },
    async stream(options) {
      // Worker w runs streams w, w + count, w + 2·count, … of the overall stagger.
      const replies = await Promise.all(
        children.map((child, index) =>
          request<Streamed>(child, {
            type: 'stream',
            ...options,
            streams: share(options.streams, index),
            offsetMs: index * options.staggerMs,
            staggerMs: options.staggerMs * count,
          }),
        ),
      );
      const firstError = replies.find((reply) => reply.firstError)?.firstError;
      return {
        type: 'streamed',
        gaps: replies.flatMap((reply) => reply.gaps),
        midStreamGaps: replies.flatMap((reply) => reply.midStreamGaps),
        chunks: replies.reduce((sum, reply) => sum + reply.chunks, 0),
        completed: replies.reduce((sum, reply) => sum + reply.completed, 0),
        failed: replies.reduce((sum, reply) => sum + reply.failed, 0),
        ...(firstError && { firstError }),
      };
    },
    async close() {
      await Promise.all(
        children.map(async (child) => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const exited = once(child, 'exit');
          if (child.connected) child.send({ type: 'close' } satisfies SocketClientsCommand);
          else child.kill('SIGTERM');
          // A worker that does not go within 5 s is killed.
          const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
          await exited;
          clearTimeout(timer);
        }),
      );
    },
  };
}
