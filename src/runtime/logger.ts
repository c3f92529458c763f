import pino from 'pino';

/**
 * The app's structured logger. Call sites log ids, counts and reasons; personal data never
 * reaches a log line, and the redaction below is a second guard for fields that would carry it.
 */
export const logger = pino({
  level: process.env.LOG_LEVEL ?? 'info',
  redact: {
    paths: ['*.consumerEmail', '*.consumerName', '*.email', '*.name', '*.password', '*.apiSecret', '*.access_token', '*.refresh_token'],
    censor: '[redacted]',
  },
});
