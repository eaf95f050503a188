/**
 * Every rate limit off, for suites that send many requests on purpose
 * (fuzzing, the authorization matrix) and want each to reach its route,
 * not the limiter's 429.
 */
export const rateLimitsOff = {
  RATE_LIMIT_AI_MODULE: '0/60',
  RATE_LIMIT_AI_MODULE_EMBEDDINGS: '0/60',
  RATE_LIMIT_CHAT_SESSIONS: '0/60',
  RATE_LIMIT_STREAM_V2: '0/60',
  RATE_LIMIT_STREAM_V2_ANONYMOUS: '0/60',
  RATE_LIMIT_DEFAULT: '0/60',
  RATE_LIMIT_DEFAULT_ANONYMOUS: '0/60',
};
