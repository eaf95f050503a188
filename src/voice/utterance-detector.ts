import { pcmSampleRate } from './speech-engines.js';

export interface UtteranceDetectorOptions {
  /** Silence after speech that ends an utterance. */
  silenceMs: number;
  /** An utterance this long is handed out even if the speaker goes on. */
  maxUtteranceSeconds: number;
  onUtterance(pcm: Buffer): void;
}

const frameMs = 20;
const bytesPerFrame = ((pcmSampleRate * frameMs) / 1000) * 2;
/** Audio kept from before the first loud frame, so the start of the first word is not cut off. */
const preRollFrames = 15;
/** Shorter bursts (a click, a cough) are not speech. */
const minSpeechFrames = 6;
/** Quietest level (RMS of 16-bit samples, about -40 dBFS) taken as speech, whatever the noise floor. */
const minSpeechLevel = 330;

/**
 * Cuts utterances out of a continuous recording by loudness: speech is a
 * frame well above the running noise floor, and an utterance ends after
 * `silenceMs` without speech. This is what lets a client keep recording
 * through the assistant's reply (barge-in) and still have each thing the
 * user says answered on its own.
 */
export class UtteranceDetector {
  private pending = Buffer.alloc(0);
  private frames: Buffer[] = [];
  private speaking = false;
  private speechFrames = 0;
  private silentFrames = 0;
  private noiseFloor = minSpeechLevel / 3;
  private readonly silenceFrames: number;
  private readonly maxFrames: number;

  constructor(private readonly options: UtteranceDetectorOptions) {
    this.silenceFrames = Math.ceil(options.silenceMs / frameMs);
    this.maxFrames = Math.ceil((options.maxUtteranceSeconds * 1000) / frameMs);
  }

  push(pcm: Buffer): void {
    const data = this.pending.length === 0 ? pcm : Buffer.concat([this.pending, pcm]);
    let offset = 0;
    for (; offset + bytesPerFrame <= data.length; offset += bytesPerFrame) this.addFrame(data.subarray(offset, offset + bytesPerFrame));
    // Copied: the rest of a frame outlives the chunk it came in.
    this.pending = Buffer.from(data.subarray(offset));
  }

  /** The recording ended: what was said since the last utterance, if any of it was speech. */
  flush(): Buffer | undefined {
    const utterance = this.speaking && this.speechFrames >= minSpeechFrames ? Buffer.concat([...this.frames, this.pending]) : undefined;
    this.reset();
    this.pending = Buffer.alloc(0);
    return utterance;
  }

  private addFrame(frame: Buffer): void {
    const level = rootMeanSquare(frame);
    const speech = level >= Math.max(minSpeechLevel, this.noiseFloor * 3);
    if (!speech) this.noiseFloor = this.noiseFloor * 0.95 + level * 0.05;
    this.frames.push(frame);
    if (!this.speaking) {
      if (speech) {
        this.speaking = true;
        this.speechFrames = 1;
        this.silentFrames = 0;
      } else if (this.frames.length > preRollFrames) {
        this.frames.shift();
      }
      return;
    }
    if (speech) {
      this.speechFrames++;
      this.silentFrames = 0;
    } else {
      this.silentFrames++;
    }
    if (this.silentFrames >= this.silenceFrames) this.endUtterance();
    else if (this.frames.length >= this.maxFrames) this.endUtterance();
  }

  private endUtterance(): void {
    const enoughSpeech = this.speechFrames >= minSpeechFrames;
    const utterance = enoughSpeech ? Buffer.concat(this.frames) : undefined;
    this.reset();
    if (utterance !== undefined) this.options.onUtterance(utterance);
  }

  private reset(): void {
    this.frames = [];
    this.speaking = false;
    this.speechFrames = 0;
    this.silentFrames = 0;
  }
}

function rootMeanSquare(frame: Buffer): number {
  let sum = 0;
  for (let offset = 0; offset < frame.length; offset += 2) {
    const sample = frame.readInt16LE(offset);
    sum += sample * sample;
  }
  return Math.sqrt(sum / (frame.length / 2));
}
