/**
 * Plays spoken replies (base64 MP3 from `ai-response`) from blob URLs,
 * which the page's Content-Security-Policy allows as `media-src blob:`.
 */
export class VoicePlayer {
  private readonly audio = new Audio();
  private finish: (() => void) | undefined;
  private plays = 0;

  get playing(): boolean {
    return this.finish !== undefined;
  }

  /** Resolves when the reply has been heard to its end or was stopped; rejects when the browser cannot play it. */
  async play(base64: string, mimeType: string): Promise<void> {
    this.stop();
    const play = ++this.plays;
    const bytes = Uint8Array.from(atob(base64), (character) => character.charCodeAt(0));
    const url = URL.createObjectURL(new Blob([bytes], { type: mimeType }));
    this.audio.src = url;
    try {
      await new Promise<void>((resolve, reject) => {
        const cannotPlay = (detail: string) => reject(new Error(`The spoken reply could not be played${detail}.`));
        this.finish = resolve;
        this.audio.onended = () => resolve();
        this.audio.onerror = () => cannotPlay('');
        // Rejected when autoplay is refused or the format is not playable; a stop() has already resolved the promise by then.
        this.audio.play().catch((failure: unknown) => cannotPlay(failure instanceof Error ? ` (${failure.message})` : ''));
      });
    } finally {
      URL.revokeObjectURL(url);
      if (this.plays === play) {
        this.finish = undefined;
        this.audio.onended = null;
        this.audio.onerror = null;
        this.audio.removeAttribute('src');
      }
    }
  }

  /** Stops the reply being spoken: the person talked over it, or left voice mode. */
  stop(): void {
    const finish = this.finish;
    this.finish = undefined;
    this.audio.pause();
    finish?.();
  }
}
