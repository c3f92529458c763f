import type { z } from 'zod';
import { UNKNOWN_KEY_MESSAGE_SEPARATOR } from './strict-object.ts';

/** One configuration problem; `path` is dotted from the config root, e.g. 'activation.mapping.senderName'. */
export interface ConfigIssue {
  path: string;
  message: string;
}

export function formatConfigPath(prefix: string, path: readonly PropertyKey[]): string {
  return [prefix, ...path.map((segment) => String(segment))].filter((segment) => segment !== '').join('.');
}

/** Flattens zod issues into path + message, one issue per unknown key so every path names the culprit. */
export function toConfigIssues(prefix: string, error: z.ZodError): ConfigIssue[] {
  return error.issues.flatMap((issue): ConfigIssue[] => {
    if (issue.code !== 'unrecognized_keys') return [{ path: formatConfigPath(prefix, issue.path), message: issue.message }];
    const messages = issue.message.split(UNKNOWN_KEY_MESSAGE_SEPARATOR);
    return issue.keys.map((key, index) => ({
      path: formatConfigPath(prefix, [...issue.path, key]),
      message: messages.length === issue.keys.length ? (messages[index] ?? issue.message) : issue.message,
    }));
  });
}
