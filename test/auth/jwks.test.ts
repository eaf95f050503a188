import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken, testJwtSecret } from '../support/tokens.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

/** A loopback identity provider that publishes one RS256 public key. */
async function startIdentityProvider() {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  const server: Server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  const sign = (subject: string, key = privateKey) =>
    new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'test-key' }).setSubject(subject).setExpirationTime('1h').sign(key);
  return { url, sign, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('RS256 tokens from an identity provider (JWKS_URL)', () => {
  let provider: Awaited<ReturnType<typeof startIdentityProvider>>;
  let server: TestServer;

  beforeAll(async () => {
    provider = await startIdentityProvider();
    server = await startTestServer({ env: { JWKS_URL: provider.url, JWT_SECRET: testJwtSecret } });
  });
  afterAll(async () => {
    await server.close();
    await provider.close();
  });

  async function models(token: string): Promise<number> {
    const response = await fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${token}` } });
    return response.status;
  }

  it("accepts a token signed with the provider's key, next to HS256 tokens", async () => {
    expect(await models(await provider.sign('idp-user'))).toBe(200);
    expect(await models(await signToken('hs-user'))).toBe(200);
  });

  it('refuses an RS256 token signed with another key', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    expect(await models(await provider.sign('idp-user', privateKey))).toBe(401);
  });
});
