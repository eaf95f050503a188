import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP relay in front of a real service (the machine's Redis)
 * that a test can cut and restore, as a network outage would: cutting
 * closes every relayed connection and refuses new ones until restored.
 * The service itself is untouched, so other suites sharing it see nothing.
 */
export class CuttableRelay {
  private readonly sockets = new Set<Socket>();
  private readonly pairs = new Set<[Socket, Socket]>();
  private isCut = false;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private target: { host: string; port: number },
  ) {}

  static async start(target: { host: string; port: number }): Promise<CuttableRelay> {
    let relay: CuttableRelay | undefined;
    const server = createServer((client) => {
      if (relay === undefined || relay.isCut) return void client.destroy();
      const upstream = connect(relay.target.port, relay.target.host);
      for (const socket of [client, upstream]) {
        relay.sockets.add(socket);
        socket.on('error', () => {});
        socket.on('close', () => relay!.sockets.delete(socket));
      }
      client.pipe(upstream).pipe(client);
      const pair: [Socket, Socket] = [client, upstream];
      relay.pairs.add(pair);
      client.on('close', () => relay!.pairs.delete(pair));
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('relay has no TCP address');
    relay = new CuttableRelay(server, address.port, target);
    return relay;
  }

  cut(): void {
    this.isCut = true;
    for (const socket of this.sockets) socket.destroy();
  }

  /** Relays again; to `target` when given, as a load balancer does when it sends a client back to another instance. */
  restore(target?: { host: string; port: number }): void {
    if (target !== undefined) this.target = target;
    this.isCut = false;
  }

  /** Stops relaying without closing anything, as a hung service or a silent network does: requests go unanswered. */
  stall(): void {
    for (const [client, upstream] of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  /** Relays again what a stall held back, in order. */
  resume(): void {
    for (const [client, upstream] of this.pairs) {
      client.pipe(upstream);
      upstream.pipe(client);
    }
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
