/** Reading Server-Sent Events the way EventSource does, for suites that drop and resume streams. */

export interface SseEvent {
  id: number | undefined;
  data: string;
}

/** Parses complete events out of `buffer`; returns them and the unparsed rest. */
export function parseSse(buffer: string): { events: SseEvent[]; rest: string } {
  const blocks = buffer.split('\n\n');
  const rest = blocks.pop()!;
  const events = blocks.map((block) => {
    let id: number | undefined;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('id: ')) id = Number(line.slice(4));
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    return { id, data: data.join('\n') };
  });
  return { events, rest };
}

/**
 * Reads a streaming response until `until` says stop (then aborts it, as a
 * client that loses its network does) or until it ends; returns the events
 * read and the last id seen, what EventSource would send as Last-Event-ID.
 */
export async function readEvents(
  response: Response,
  until: (events: SseEvent[]) => boolean = () => false,
  abort?: AbortController,
): Promise<{ events: SseEvent[]; lastId: number }> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const events: SseEvent[] = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const parsed = parseSse(buffer + decoder.decode(value, { stream: true }));
      buffer = parsed.rest;
      events.push(...parsed.events);
      if (until(events)) {
        abort?.abort();
        break;
      }
    }
  } catch (error) {
    if (!(error instanceof Error && error.name === 'AbortError')) throw error;
  }
  const lastId = events.reduce((last, event) => event.id ?? last, 0);
  return { events, lastId };
}
