import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { spawnParley } from '../support/parley-process.js';

const run = promisify(execFile);

/** Starts `src/main.ts` as `npm start` would, with only the given variables, and returns how it ended. */
async function start(env: Record<string, string>): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { PATH: process.env.PATH, LOG_LEVEL: 'silent', DATABASE_URL: 'file:/nonexistent-should-not-be-opened/parley.db', ...env },
      timeout: 15_000,
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, output: failure.stdout + failure.stderr };
  }
}

describe('starting the server', () => {
  it('refuses to start on a bad variable, naming it', async () => {
    const { code, output } = await start({ PORT: 'eighty' });
    expect(code).toBe(1);
    expect(output).toContain('PORT');
    expect(output).toContain('.env.example');
  });

  it('refuses a non-loopback address in local mode unless explicitly allowed', async () => {
    const { code, output } = await start({ HOST: '0.0.0.0' });
    expect(code).toBe(1);
    expect(output).toContain('without JWT_SECRET');
    expect(output).toContain('ALLOW_REMOTE_LOCAL_MODE');
  });

  it.each(['sqlite:', 'sqlite://', 'file://'])('opens DATABASE_URL=%s<absolute path> at that path', async (prefix) => {
    const folder = mkdtempSync(join(tmpdir(), 'parley-url-'));
    const file = join(folder, 'data', 'parley.db');
    const parley = await spawnParley({ DATABASE_URL: `${prefix}${file}` });
    try {
      expect(existsSync(file)).toBe(true);
      // The old reading took `sqlite:/…` for a relative path and made a folder named `sqlite:` here.
      expect(existsSync('sqlite:')).toBe(false);
    } finally {
      await parley.kill();
      rmSync(folder, { recursive: true, force: true });
      rmSync('sqlite:', { recursive: true, force: true });
    }
  });

  it('refuses a DATABASE_URL of a database it does not speak, naming the variable', async () => {
    const { code, output } = await start({ DATABASE_URL: 'mysql://root@127.0.0.1/parley' });
    expect(code).toBe(1);
    expect(output).toContain('DATABASE_URL');
    expect(output).toContain('"mysql:"');
  });
});
