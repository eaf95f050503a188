import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { AppError, toAppError } from '../core/errors.js';
import type { DecoderSlots } from './decoder-slots.js';
import { programUnavailable, spawnFailure } from './run-program.js';
import { pcmSampleRate } from './speech-engines.js';

/** Audio a client has sent that ffmpeg has not read yet; a client sending faster than real time past this is refused. */
const maxPendingBytes = 4 * 1024 * 1024;

const decoderArguments = ['-v', 'error', '-i', 'pipe:0', '-f', 's16le', '-ac', '1', '-ar', String(pcmSampleRate), 'pipe:1'];

type Ffmpeg = ChildProcessByStdio<Writable, Readable, null>;

/**
 * Decodes one recording as it streams in: a browser's MediaRecorder sends
 * WebM/Opus (Ogg/Opus in Firefox) in 40–100 ms pieces, and only the first
 * piece carries the container's header, so one ffmpeg process reads the
 * whole recording and hands out 16 kHz mono PCM as it goes. The process
 * starts with the first piece, so a recording with no audio costs nothing.
 */
export class RecordingDecoder {
  private ffmpeg: Ffmpeg | undefined;
  private exited: Promise<void> = Promise.resolve();
  private failed = false;

  constructor(
    private readonly slots: DecoderSlots,
    /** The client's address, for the per-address limit of slots. */
    private readonly address: string | undefined,
    private readonly onPcm: (pcm: Buffer) => void,
    private readonly onFailure: (error: AppError) => void,
  ) {}

  /** Whether the recording was refused (undecodable, too fast); later pieces are ignored. */
  get hasFailed(): boolean {
    return this.failed;
  }

  write(chunk: Buffer): void {
    if (this.failed) return;
    if (this.ffmpeg === undefined) {
      const refusal = this.slots.take(this.address);
      if (refusal !== undefined) return this.fail(refusal);
      this.ffmpeg = this.start();
    }
    const { ffmpeg } = this;
    if (ffmpeg.stdin.writableLength + chunk.length > maxPendingBytes) {
      this.destroy();
      return this.fail(new AppError('payload_too_large', 'Audio is arriving faster than it can be decoded', { field: 'audio' }));
    }
    ffmpeg.stdin.write(chunk);
  }

  /** The recording ended: resolves once every sample of it has been handed to onPcm. */
  async finish(): Promise<void> {
    this.ffmpeg?.stdin.end();
    await this.exited;
  }

  destroy(): void {
    this.ffmpeg?.kill('SIGKILL');
  }

  private start(): Ffmpeg {
    const ffmpeg = spawn('ffmpeg', decoderArguments, { stdio: ['pipe', 'pipe', 'ignore'] });
    ffmpeg.stdout.on('data', (pcm: Buffer) => this.onPcm(pcm));
    // Writing after ffmpeg gave up on the input raises EPIPE; its exit code reports the failure.
    ffmpeg.stdin.on('error', () => {});
    this.exited = new Promise((resolve) => {
      ffmpeg.on('error', (error: NodeJS.ErrnoException) => {
        this.fail(toAppError(programUnavailable(spawnFailure('ffmpeg', error), 'Voice input')));
        resolve();
      });
      // 'close' comes after 'error' too, even for a program that never started.
      ffmpeg.on('close', (code) => {
        this.slots.give(this.address);
        if (code !== 0 && code !== null) this.fail(undecodable());
        resolve();
      });
    });
    return ffmpeg;
  }

  private fail(error: AppError): void {
    if (this.failed) return;
    this.failed = true;
    this.onFailure(error);
  }
}

function undecodable(): AppError {
  return new AppError('invalid_request', 'The audio could not be decoded: send WebM/Opus, Ogg/Opus or WAV, as MediaRecorder records it', {
    field: 'audio',
  });
}
