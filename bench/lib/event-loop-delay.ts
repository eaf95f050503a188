import type { StreamTarget } from './stream-targets.js';

/** A Parley's event-loop delay over one window, in milliseconds. */
export interface EventLoopDelay {
  p50: number;
  p99: number;
  max: number;
}

/**
 * Parley's own event-loop delay, read from its GET /metrics: prom-client's
 * `nodejs_eventloop_lag_*` come from perf_hooks.monitorEventLoopDelay at a
 * 10 ms resolution and are reset at every scrape, so a scrape before a run
 * and one after it give that run's window. An idle loop reads about 10 ms
 * (the sampling interval); a stall of 50 ms reads about 50 ms. Nothing is
 * added to Parley for the bench, and the scrapes run outside the CPU window.
 */
export class EventLoopWindow {
  constructor(private readonly metricsUrl: string) {}

  /** Starts a window: what the histogram held so far is discarded. */
  async start(): Promise<void> {
    await this.scrape();
  }

  async read(): Promise<EventLoopDelay> {
    const text = await this.scrape();
    const seconds = (name: string) => {
      const match = new RegExp(`^nodejs_eventloop_lag_${name}_seconds (\\S+)$`, 'm').exec(text);
      if (match === null) throw new Error(`${this.metricsUrl} has no nodejs_eventloop_lag_${name}_seconds`);
      return Number(match[1]) * 1000;
    };
    return { p50: seconds('p50'), p99: seconds('p99'), max: seconds('max') };
  }

  private async scrape(): Promise<string> {
    const response = await fetch(this.metricsUrl);
    if (!response.ok) throw new Error(`GET ${this.metricsUrl}: ${response.status}`);
    return response.text();
  }
}

/** The target, with the event-loop delay of the Parley at `parleyUrl` recorded over each of its runs. */
export function watchEventLoop(target: StreamTarget, parleyUrl: string): StreamTarget {
  return { ...target, eventLoop: new EventLoopWindow(`${parleyUrl}/metrics`) };
}

/** Over several windows: the median p50, the worst p99 and the worst stall. */
export function combineDelays(windows: EventLoopDelay[]): EventLoopDelay | null {
  if (windows.length === 0) return null;
  const p50s = windows.map((window) => window.p50).sort((a, b) => a - b);
  return {
    p50: p50s[Math.floor((p50s.length - 1) / 2)]!,
    p99: Math.max(...windows.map((window) => window.p99)),
    max: Math.max(...windows.map((window) => window.max)),
  };
}
