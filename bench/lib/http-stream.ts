import { request, type Agent } from 'node:http';
import { countTokenMarks, type TokenMeter } from './token-meter.js';

/**
 * POSTs `body` and reads the streamed answer as raw bytes, counting tokens
 * per read: no decoding, no SSE parsing, so the load generator stays cheap.
 * Failures are recorded in the meter, never thrown.
 */
export function postStream(url: URL, body: string, agent: Agent, meter: TokenMeter, headers: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve) => {
    const tracker = meter.begin();
    const fail = (error: unknown) => {
      meter.fail(error);
      resolve();
    };
    const req = request(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        if (res.statusCode !== 200) {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => fail(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`)));
          return;
        }
        res.on('data', (chunk: Buffer) => tracker.add(countTokenMarks(chunk)));
        res.on('end', () => {
          tracker.done();
          resolve();
        });
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    req.end(body);
  });
}
