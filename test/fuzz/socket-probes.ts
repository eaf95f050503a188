import type { ReceivedEvent, RecordedSocket } from './recorded-socket.js';

/**
 * How a case checks that its connection is still served after the fuzzed
 * event: one event per namespace that the server answers by name. The probe
 * carries a marker the answer echoes, so it is never confused with an
 * earlier case's late answer. Its message is one character over
 * MAX_MESSAGE_CHARS: it goes through the surface's handler, the identity and
 * the engine's admission, and is refused before anything is stored.
 */
export interface Probe {
  emit(socket: RecordedSocket, marker: string): void;
  answers(event: ReceivedEvent, marker: string): boolean;
}

const payloadOf = (event: ReceivedEvent) => (event.args[0] ?? {}) as Record<string, unknown>;

export function probesFor(maxMessageChars: number): Record<string, Probe> {
  const tooLong = 'p'.repeat(maxMessageChars + 1);
  return {
    // Seed 003's ai:chat names its failure with the sessionId it was sent.
    '/': {
      emit: (socket, marker) => socket.emit('ai:chat', [{ message: tooLong, sessionId: marker }], false),
      answers: (event, marker) =>
        event.event === 'ai:error' && payloadOf(event).sessionId === marker && payloadOf(event).code === 'payload_too_large',
    },
    // Seed 000's ai_request names its failure with the requestId it was sent.
    '/ai': {
      emit: (socket, marker) => socket.emit('ai_request', [{ requestId: marker, prompt: tooLong }], false),
      answers: (event, marker) =>
        event.event === 'ai_error' && payloadOf(event).requestId === marker && payloadOf(event).code === 'payload_too_large',
    },
  };
}
