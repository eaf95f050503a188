import type { MessageStatus, Surface } from '../store/chat-store.js';

/** How a turn that reached the store ended, once per turn. */
export interface TurnOutcome {
  surface: Surface;
  status: MessageStatus;
  provider: string;
  model: string;
  /** null when no token came. */
  timeToFirstTokenMs: number | null;
  durationMs: number;
  promptTokens: number;
  completionTokens: number;
  /** The error code of a failed turn (provider_timeout, store_unavailable, …). */
  failureCode: string | undefined;
}

export interface SideModelCall {
  purpose: 'title' | 'summary';
  provider: string;
  model: string;
  promptTokens: number;
  completionTokens: number;
}

/**
 * What the engine tells whoever watches it (the Prometheus metrics), at a
 * turn's start and end only: nothing here runs per token.
 */
export interface TurnObserver {
  turnStarted(surface: Surface): void;
  turnEnded(outcome: TurnOutcome): void;
  /** A turn refused before anything was stored: rate limited, over budget, invalid, the store down. */
  turnRefused(code: string): void;
  /** A call the server made for a user beside a turn (a title, a summary), billed to them. */
  modelCallEnded(call: SideModelCall): void;
}
