/**
 * Readiness, as a load balancer or Kubernetes asks it: can this instance
 * serve a turn now? Liveness stays GET /health (seed 004's); GET /ready asks
 * every dependency the instance needs (the database and, when configured,
 * Redis), each bounded by a timeout so that a stalled dependency answers
 * "down" instead of hanging the probe, and says no while draining at shutdown
 * so that traffic moves elsewhere before the connections close.
 */

import { settlesWithin } from '../core/settles-within.js';

/** A dependency the instance cannot serve without. */
export interface ReadinessCheck {
  /** Named in the answer when it is down: `database`, `redis`. */
  name: string;
  /** Throws (or never settles) when the dependency cannot answer. */
  ping(): Promise<unknown>;
}

export type ReadinessReport = { ready: true } | { ready: false; draining: boolean; down: string[] };

/** A probe answers within this, whatever its dependencies do. */
const checkTimeoutMs = 1_000;

export class Readiness {
  private draining = false;

  constructor(private readonly checks: ReadinessCheck[]) {}

  /** From the start of a shutdown on, the instance is not ready, whatever its dependencies say. */
  markDraining(): void {
    this.draining = true;
  }

  async report(): Promise<ReadinessReport> {
    const results = await Promise.all(
      this.checks.map(async (check) => ((await settlesWithin(check.ping(), checkTimeoutMs)) ? undefined : check.name)),
    );
    const down = results.filter((name): name is string => name !== undefined);
    if (!this.draining && down.length === 0) return { ready: true };
    return { ready: false, draining: this.draining, down };
  }
}
