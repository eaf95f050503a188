import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { startNodeProcess } from './child-process.js';
import { freePort } from './free-port.js';
import { openaiStreamTarget, type StreamTarget } from './stream-targets.js';
import type { UrlProcess } from './upstream-processes.js';

/**
 * The Portkey AI gateway (@portkey-ai/gateway), the peer a team would run
 * instead of Parley in front of OpenAI-compatible models, as a third target
 * beside the byte proxy. Installed on first use into a scratch folder outside
 * the repository, at pinned versions: with @hono/node-server newer than
 * 1.13.5 Portkey answers every streaming request with 500 (Portkey issue #1389).
 */
export const portkeyVersions = { gateway: '1.15.2', honoNodeServer: '1.13.5' };

const installDir = join(homedir(), '.cache', 'parley-bench', `portkey-${portkeyVersions.gateway}`);
const startScript = join(installDir, 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js');

/** Installs the pinned gateway once (npm, no install scripts); later runs reuse it. */
export function installPortkey(): void {
  if (existsSync(startScript)) return;
  mkdirSync(installDir, { recursive: true });
  const manifest = {
    name: 'parley-bench-portkey',
    private: true,
    dependencies: { '@portkey-ai/gateway': portkeyVersions.gateway },
    overrides: { '@hono/node-server': portkeyVersions.honoNodeServer },
  };
  writeFileSync(join(installDir, 'package.json'), JSON.stringify(manifest, null, 2));
  console.error(`installing @portkey-ai/gateway ${portkeyVersions.gateway} into ${installDir}`);
  execFileSync('npm', ['install', '--ignore-scripts', '--no-fund', '--no-audit', '--loglevel=error'], {
    cwd: installDir,
    stdio: 'inherit',
  });
}

/** The versions npm actually installed, for the results line. */
export function installedPortkeyVersions(): Record<string, string> {
  const version = (name: string) =>
    (JSON.parse(readFileSync(join(installDir, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  return { gateway: version('@portkey-ai/gateway'), honoNodeServer: version('@hono/node-server'), hono: version('hono') };
}

/**
 * Starts the gateway headless (no console UI) on a free port. Requests name
 * their provider in headers: portkeyHeaders(upstream).
 */
export async function startPortkey(): Promise<UrlProcess> {
  installPortkey();
  const port = await freePort();
  const gateway = await startNodeProcess(startScript, {
    args: [`--port=${port}`, '--headless'],
    cwd: installDir,
    env: { NODE_ENV: 'production' },
    readyPattern: /Ready for connections/,
  });
  return { ...gateway, url: `http://127.0.0.1:${port}` };
}

/** The headers that route a Portkey request to an OpenAI-compatible upstream at `upstreamUrl`. */
export function portkeyHeaders(upstreamUrl: string): Record<string, string> {
  return { 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${upstreamUrl}/v1` };
}

/** Every run measures the peer unless `--no-peer` (a machine that cannot reach the npm registry). */
export const peerWanted = !process.argv.includes('--no-peer');

/** The gateway and its streaming chat completions target, in front of the fake upstream at `upstreamUrl`. */
export async function startPortkeyTarget(upstreamUrl: string): Promise<{ gateway: UrlProcess; target: StreamTarget }> {
  const gateway = await startPortkey();
  return { gateway, target: openaiStreamTarget('portkey', gateway.pid, gateway.url, portkeyHeaders(upstreamUrl)) };
}
