import { AppError } from '../core/errors.js';
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import pLimit from 'p-limit';

export interface ProgramResult {
  stdout: Buffer;
}

/** A local program that is missing or failed; the caller turns it into the AppError its users should see. */
export class ProgramError extends Error {
  constructor(
    readonly program: string,
    message: string,
    /** The program is not installed (ENOENT). */
    readonly missing: boolean,
  ) {
    super(message);
    this.name = 'ProgramError';
  }
}

/** What a spawn error means: a program that is not installed is a ProgramError; anything else stays as it is. */
export function spawnFailure(program: string, error: NodeJS.ErrnoException): Error {
  return error.code === 'ENOENT' ? new ProgramError(program, `${program} is not installed`, true) : error;
}

/** The end of stderr kept for the error message: enough to say what went wrong, never a flood. */
const stderrTailBytes = 2048;

/**
 * Runs a local program (ffmpeg, espeak-ng, pocketsphinx) to completion with
 * `input` on its stdin, and collects its stdout. Aborting the signal kills
 * it. Arguments are passed as a list, never through a shell.
 */
export function runProgram(program: string, args: string[], input: Buffer | undefined, signal: AbortSignal): Promise<ProgramResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'], signal });
    const stdout: Buffer[] = [];
    let stderr = Buffer.alloc(0);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = Buffer.concat([stderr, chunk]).subarray(-stderrTailBytes);
    });
    // The program may exit before reading all its input (EPIPE); its exit code tells what happened.
    child.stdin.on('error', () => {});
    child.on('error', (error: NodeJS.ErrnoException) => reject(spawnFailure(program, error)));
    child.on('close', (code) => {
      if (signal.aborted) return reject(signal.reason);
      if (code === 0) return resolve({ stdout: Buffer.concat(stdout) });
      reject(new ProgramError(program, `${program} exited with ${code}: ${stderr.toString('utf8').trim()}`, false));
    });
    child.stdin.end(input);
  });
}

/**
 * The local speech engines' runs at once, server-wide. Each is CPU-bound
 * (pocketsphinx loads its model on every run), so running more than the
 * machine has cores only slows them all; the others wait their turn.
 */
const speechProgramSlots = pLimit(availableParallelism());

/** runProgram for the local speech engines, within speechProgramSlots. */
export function runSpeechProgram(program: string, args: string[], input: Buffer | undefined, signal: AbortSignal): Promise<ProgramResult> {
  return speechProgramSlots(() => runProgram(program, args, input, signal));
}

/**
 * A local engine's failure as users see it: service_unavailable naming the
 * program. Its stderr stays in `cause`, for the log only.
 */
export function programUnavailable(error: unknown, service: string): Error {
  if (!(error instanceof ProgramError)) return error as Error;
  const problem = error.missing ? 'is not installed' : 'failed';
  return new AppError('service_unavailable', `${service} is unavailable: ${error.program} ${problem}`, { cause: error });
}
