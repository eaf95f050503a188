import type { SurfaceSettings } from '../../config/surface-defaults.js';
import type { ChatEngine } from '../../chat/chat-engine.js';
import { AppError } from '../../core/errors.js';
import type { Identity } from '../../core/identity.js';
import type { JobContext, JobProcessor, JobQueue, RunningJob } from '../../jobs/job-queue.js';
import type { ProviderRegistry } from '../../providers/provider-registry.js';
import type { StartRequest } from '../../chat/turns.js';
import { runAiChatTurn } from './ai-chat-turn.js';
import { createEmbedding } from './ai-embeddings.js';
import type { ChatBody, EmbeddingsBody } from './ai-module-requests.js';
import type { ChatResponse, EmbeddingsResponse } from './ai-module-responses.js';

/** Seed 001's background jobs, named as its Bull queue names them. */
export type AiJob =
  | { kind: 'generate-completion'; payload: { identityKind: Identity['kind']; request: ChatBody } }
  | { kind: 'generate-embeddings'; payload: { request: EmbeddingsBody } };

export type AiJobResult = ChatResponse | EmbeddingsResponse;

export type AiJobQueue = JobQueue<AiJob, AiJobResult>;

export interface AiJobDependencies {
  engine: ChatEngine;
  providers: ProviderRegistry;
  settings: SurfaceSettings;
}

/**
 * Runs seed 001's jobs: a completion is a turn like any other (stored in its
 * conversation), an embedding a call to the embeddings provider. Progress:
 * 0 while waiting, 10 once started, 100 when done.
 */
export function aiJobProcessor(dependencies: AiJobDependencies): JobProcessor<AiJob, AiJobResult> {
  return async (job, context) => {
    await context.reportProgress(10);
    const result =
      job.kind === 'generate-completion'
        ? await runCompletion(dependencies, job, context)
        : await createEmbedding(dependencies.providers, job.payload.request, context.signal);
    await context.reportProgress(100);
    return result;
  };
}

async function runCompletion(
  dependencies: AiJobDependencies,
  job: Extract<RunningJob<AiJob>, { kind: 'generate-completion' }>,
  context: JobContext,
): Promise<ChatResponse> {
  const identity: Identity = { userId: job.owner, kind: job.payload.identityKind };
  const start = (turn: StartRequest) => dependencies.engine.runTurn({ ...turn, signal: context.signal });
  const outcome = await runAiChatTurn(start, dependencies.settings, identity, job.payload.request, true);
  if (outcome.kind === 'finished') return outcome.response;
  if (outcome.kind === 'failed') throw outcome.error;
  throw new AppError('internal_error', 'The server shut down while the job was running; the partial reply is stored');
}
