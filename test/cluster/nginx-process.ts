/**
 * Debian's nginx, run unprivileged from a temp directory with the shipped
 * deploy/nginx.conf. Only the parts an operator changes per machine differ:
 * the listen line and the upstream servers, rewritten here, and the
 * pid/log/temp paths, which live in the main file written around it.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../support/parley-process.js';

export const shippedConfigPath = path.resolve('deploy/nginx.conf');

/** Debian installs nginx in /usr/sbin, which is not on a non-root PATH. */
export function nginxBinary(): string | undefined {
  const directories = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin'];
  for (const directory of directories) {
    const candidate = path.join(directory, 'nginx');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here; try the next.
    }
  }
  return undefined;
}

/** For requireService: throws when nginx is not installed. */
export async function checkNginx(): Promise<void> {
  if (nginxBinary() === undefined) throw new Error('nginx was not found on PATH or in /usr/sbin (apt-get install nginx)');
}

/**
 * The shipped site file with its listen line and the server lines of each
 * upstream block replaced. Throws if the file no longer has the shape this
 * expects, so a changed file cannot be tested in some other form.
 */
export function renderSiteConfig(shipped: string, listenPort: number, upstreams: string[]): string {
  const listen = /^(\s*)listen 80;$/gm;
  const serverLines = /^( *)server \S+;\n(?: *server \S+;\n)*/gm;
  const listens = shipped.match(listen)?.length ?? 0;
  const upstreamBlocks = shipped.match(/^upstream \S+ \{$/gm)?.length ?? 0;
  const serverRuns = shipped.match(serverLines)?.length ?? 0;
  if (listens !== 1 || upstreamBlocks === 0 || serverRuns !== upstreamBlocks) {
    throw new Error(
      `${shippedConfigPath} changed shape: expected one "listen 80;" and one run of server lines per upstream block ` +
        `(found ${listens} listen lines, ${upstreamBlocks} upstream blocks, ${serverRuns} server runs)`,
    );
  }
  return shipped
    .replace(listen, `$1listen 127.0.0.1:${listenPort};`)
    .replace(serverLines, (_, indent: string) => upstreams.map((address) => `${indent}server ${address};\n`).join(''));
}

/** The main file Debian's /etc/nginx/nginx.conf would be, with every path inside `directory`. */
function mainConfig(directory: string, siteFile: string): string {
  const inside = (name: string) => path.join(directory, name);
  return [
    'daemon off;',
    'worker_processes 1;',
    // As root the workers would switch to `nobody`, who cannot write the temp directories.
    ...(process.getuid?.() === 0 ? ['user root;'] : []),
    `pid ${inside('nginx.pid')};`,
    `error_log ${inside('error.log')} warn;`,
    'events { worker_connections 256; }',
    'http {',
    `  access_log ${inside('access.log')};`,
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${inside(kind)};`),
    // As in Debian's nginx.conf, so the site file is tested in the context it is installed into,
    // plus compressed event streams: gzip holds back a buffered stream, so this pins proxy_buffering off.
    '  sendfile on;',
    '  tcp_nopush on;',
    '  gzip on;',
    '  gzip_types text/event-stream;',
    `  include ${siteFile};`,
    '}',
    '',
  ].join('\n');
}

export interface NginxProcess {
  url: string;
  /** The error log so far, for failure messages. */
  errorLog(): Promise<string>;
  stop(): Promise<void>;
}

/** Starts nginx in front of `upstreams` (host:port each) and waits until it accepts connections. */
export async function startNginx(upstreams: string[]): Promise<NginxProcess> {
  const binary = nginxBinary();
  if (binary === undefined) throw new Error('nginx is not installed');
  const directory = await mkdtemp(path.join(os.tmpdir(), 'parley-nginx-'));
  const port = await freePort();
  const siteFile = path.join(directory, 'parley.conf');
  await writeFile(siteFile, renderSiteConfig(await readFile(shippedConfigPath, 'utf8'), port, upstreams));
  await writeFile(path.join(directory, 'nginx.conf'), mainConfig(directory, siteFile));
  // -e: nginx opens its compiled-in error log (/var/log/nginx) before it reads the config.
  const child = spawn(binary, ['-p', directory, '-c', path.join(directory, 'nginx.conf'), '-e', path.join(directory, 'error.log')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit');
  const errorLog = () => readFile(path.join(directory, 'error.log'), 'utf8').catch(() => '');
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    await rm(directory, { recursive: true, force: true });
  };
  const deadline = Date.now() + 5_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      const log = `${stderr}${await errorLog()}`;
      await stop();
      throw new Error(`nginx did not start:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { url: `http://127.0.0.1:${port}`, errorLog, stop };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
