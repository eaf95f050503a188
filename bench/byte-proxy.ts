/**
 * The physical limit of any relay: a plain node:http reverse proxy that only
 * pipes a request's bytes to the upstream and the response's bytes back.
 * No parsing, no storage, no logging. Runs as a process of its own so its
 * CPU can be read from /proc; prints `BYTE_PROXY <url>` when ready.
 *
 *   UPSTREAM_URL=http://127.0.0.1:1234 npx tsx bench/byte-proxy.ts
 */
import { Agent, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';

const upstream = new URL(process.env.UPSTREAM_URL ?? 'http://127.0.0.1:8001');
// Keep-alive to the upstream, as Parley's provider client has.
const agent = new Agent({ keepAlive: true });

const server = createServer((request, response) => {
  const upstreamRequest = httpRequest(
    {
      agent,
      host: upstream.hostname,
      port: upstream.port,
      method: request.method,
      path: request.url,
      headers: { ...request.headers, host: upstream.host },
    },
    (upstreamResponse) => {
      response.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
      upstreamResponse.pipe(response);
    },
  );
  upstreamRequest.on('error', () => {
    if (!response.headersSent) response.writeHead(502);
    response.end();
  });
  // The client going away before the response ended cancels the upstream request.
  response.on('close', () => {
    if (!response.writableFinished) upstreamRequest.destroy();
  });
  request.pipe(upstreamRequest);
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`BYTE_PROXY http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
