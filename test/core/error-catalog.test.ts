import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorCodes } from '../../src/core/errors.js';
import { httpStatusByCode } from '../../src/http/http-errors.js';

describe('the error catalog', () => {
  const documented = readFileSync('docs/protocols.md', 'utf8');

  it('documents every error code with the HTTP status the server answers', () => {
    for (const code of errorCodes) {
      expect(documented, code).toContain(`| \`${code}\` | ${httpStatusByCode[code]} |`);
    }
  });
});
