/** Small, allocation-light helpers for reading requests and writing answers with node:http. */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Bodies above this are refused: nothing Trustpilot accepts is anywhere near it. */
export const MAX_BODY_BYTES = 1024 * 1024;

export class BodyTooLargeError extends Error {
  constructor() {
    super(`request body exceeds ${MAX_BODY_BYTES} bytes`);
  }
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Keep draining (so a 413 can still be answered) but stop holding the bytes.
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) reject(new BodyTooLargeError());
      else resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

export type HeaderValues = Record<string, string>;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers?: HeaderValues): void {
  sendRaw(res, status, JSON.stringify(body), 'application/json; charset=utf-8', headers);
}

export function sendRaw(res: ServerResponse, status: number, text: string, contentType: string | null, headers?: HeaderValues): void {
  if (res.headersSent || res.destroyed) return;
  const outgoing: Record<string, string | number> = { 'content-length': Buffer.byteLength(text), ...headers };
  if (contentType !== null) outgoing['content-type'] = contentType;
  res.writeHead(status, outgoing);
  res.end(text);
}

/** The media type without parameters, lower-cased: `Application/JSON; charset=utf-8` -> `application/json`. */
export function mediaType(req: IncomingMessage): string {
  const header = req.headers['content-type'];
  if (header === undefined) return '';
  const semicolon = header.indexOf(';');
  return (semicolon === -1 ? header : header.slice(0, semicolon)).trim().toLowerCase();
}

export function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const question = url.indexOf('?');
  return question === -1 ? url : url.slice(0, question);
}

export interface BasicCredentials {
  username: string;
  password: string;
}

export function parseBasicAuth(req: IncomingMessage): BasicCredentials | null {
  const header = req.headers.authorization;
  if (header === undefined || !/^basic /i.test(header)) return null;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export function parseBearerToken(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  if (header === undefined || !/^bearer /i.test(header)) return null;
  const token = header.slice(7).trim();
  return token === '' ? null : token;
}

export function singleHeader(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
