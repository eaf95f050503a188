import { runProgram } from '../../src/voice/run-program.js';

/**
 * Real speech for the voice tests, spoken by espeak-ng and encoded by
 * ffmpeg as a browser's MediaRecorder would send it.
 */
const never = new AbortController().signal;

async function spokenWav(text: string): Promise<Buffer> {
  return (await runProgram('espeak-ng', ['--stdout', '-s', '150', text], undefined, never)).stdout;
}

/** 16 kHz mono s16le PCM of `text`, with `silenceMs` of silence after it. */
export async function spokenPcm(text: string, silenceMs = 0): Promise<Buffer> {
  const pcm = (
    await runProgram(
      'ffmpeg',
      ['-v', 'error', '-i', 'pipe:0', '-f', 's16le', '-ac', '1', '-ar', '16000', 'pipe:1'],
      await spokenWav(text),
      never,
    )
  ).stdout;
  return Buffer.concat([pcm, silence(silenceMs / 1000)]);
}

/** `text` as WebM/Opus (MediaRecorder's format in Chromium), with `silenceMs` of silence after it. */
export async function spokenWebm(text: string, silenceMs = 0): Promise<Buffer> {
  return webm(await spokenPcm(text, silenceMs));
}

/** 16 kHz mono PCM encoded as WebM/Opus. */
export async function webm(pcm: Buffer): Promise<Buffer> {
  const args = [
    '-v',
    'error',
    '-f',
    's16le',
    '-ar',
    '16000',
    '-ac',
    '1',
    '-i',
    'pipe:0',
    '-c:a',
    'libopus',
    '-b:a',
    '32k',
    '-f',
    'webm',
    'pipe:1',
  ];
  return (await runProgram('ffmpeg', args, pcm, never)).stdout;
}

/** `seconds` of silence as 16 kHz mono PCM. */
export function silence(seconds: number): Buffer {
  return Buffer.alloc(Math.round(seconds * 16_000) * 2);
}

/** Cuts a recording into the pieces a client would stream (MediaRecorder's 40–100 ms timeslices are ~500 bytes of Opus). */
export function inChunks(audio: Buffer, bytes = 512): Buffer[] {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < audio.length; offset += bytes) chunks.push(audio.subarray(offset, offset + bytes));
  return chunks;
}

/** The speech programs the voice suites run, for requireService: Debian's ffmpeg, espeak-ng and pocketsphinx. */
export async function checkSpeechPrograms(): Promise<void> {
  await runProgram('ffmpeg', ['-version'], undefined, never);
  await runProgram('espeak-ng', ['--version'], undefined, never);
  await runProgram('pocketsphinx_continuous', ['-h', 'yes'], undefined, never).catch((error: Error & { missing?: boolean }) => {
    if (error.missing) throw error;
  });
}
