import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { programUnavailable, runSpeechProgram } from './run-program.js';
import type { SpeechToText } from './speech-engines.js';
import { wavFile } from './wav-file.js';

/** Each transcription's own directory under os.tmpdir(), so concurrent ones never share a file. */
export const pocketsphinxTempPrefix = 'parley-pocketsphinx-';

export interface PocketsphinxOptions {
  /** The recogniser program; Debian's `pocketsphinx` package installs it on the PATH. */
  program?: string;
}

/**
 * Offline speech recognition with CMU pocketsphinx (Debian's 0.8+5prealpha),
 * whose defaults already load the en-us model of `pocketsphinx-en-us`. Its
 * CLI cannot read PCM from stdin in this version, hence the temporary file.
 */
export class PocketsphinxSpeechToText implements SpeechToText {
  readonly name = 'pocketsphinx';
  private readonly program: string;

  constructor(options: PocketsphinxOptions = {}) {
    this.program = options.program ?? 'pocketsphinx_continuous';
  }

  async transcribe(pcm: Buffer, signal: AbortSignal): Promise<string> {
    signal.throwIfAborted();
    const directory = await mkdtemp(join(tmpdir(), pocketsphinxTempPrefix));
    try {
      const file = join(directory, 'speech.wav');
      await writeFile(file, wavFile(pcm), { signal });
      // Its log (model loading, per-utterance statistics) is megabytes of stderr nobody reads.
      const { stdout } = await runSpeechProgram(this.program, ['-infile', file, '-logfn', '/dev/null'], undefined, signal);
      return hypothesisOf(stdout.toString('utf8'));
    } catch (error) {
      if (signal.aborted) throw error;
      throw programUnavailable(error, 'Speech recognition');
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  }
}

/**
 * pocketsphinx_continuous prints one line per utterance it found (a pause
 * splits a recording into several), nothing for silence. 0.8 prefixed each
 * line with its utterance id ("000000000: hello"); 5prealpha prints the
 * hypothesis alone. Both are accepted.
 */
function hypothesisOf(output: string): string {
  return output
    .split('\n')
    .map((line) => line.replace(/^\d+:\s*/, '').trim())
    .filter((line) => line !== '')
    .join(' ')
    .toLowerCase();
}
