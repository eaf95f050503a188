import type { FastifyRequest } from 'fastify';
import type { Authenticator } from '../../auth/authenticator.js';
import type { Identity } from '../../core/identity.js';

/**
 * Authenticates every request of a scope before its body is validated, so a
 * request without a token answers 401 whatever its body, and handlers read
 * the identity without verifying the token twice.
 */
export class RequestIdentities {
  private readonly identities = new WeakMap<FastifyRequest, Identity>();

  constructor(private readonly authenticator: Authenticator) {}

  readonly hook = async (request: FastifyRequest): Promise<void> => {
    this.identities.set(request, await this.authenticator.requireHeader(request.headers.authorization));
  };

  of(request: FastifyRequest): Identity {
    const identity = this.identities.get(request);
    if (identity === undefined) throw new Error('RequestIdentities.hook did not run for this route');
    return identity;
  }
}
