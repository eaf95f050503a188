import { AppError } from '../core/errors.js';

/**
 * Counts the recordings being decoded (each holds an ffmpeg process),
 * server-wide and per client address, so that neither many sockets nor one
 * client opening many of them can start processes without bound.
 */
export class DecoderSlots {
  private open = 0;
  private readonly openByAddress = new Map<string, number>();

  constructor(
    private readonly limit: number,
    private readonly limitPerAddress: number,
  ) {}

  /** Takes a slot for a recording from `address`, or answers why there is none. */
  take(address: string | undefined): AppError | undefined {
    if (this.open >= this.limit) return full('The server is decoding as many recordings as it can; try again shortly');
    const key = address ?? '';
    const fromAddress = this.openByAddress.get(key) ?? 0;
    if (fromAddress >= this.limitPerAddress) return full(`This address already has ${fromAddress} recordings open; stop one first`);
    this.open++;
    this.openByAddress.set(key, fromAddress + 1);
    return undefined;
  }

  give(address: string | undefined): void {
    const key = address ?? '';
    this.open--;
    const remaining = (this.openByAddress.get(key) ?? 1) - 1;
    if (remaining <= 0) this.openByAddress.delete(key);
    else this.openByAddress.set(key, remaining);
  }
}

function full(message: string): AppError {
  return new AppError('service_unavailable', message, { retryable: true, retryAfterSeconds: 1 });
}
