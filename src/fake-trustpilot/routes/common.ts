/** Answers shared by every route module. */
import type { ServerResponse } from 'node:http';
import { sendJson } from '../http-io.ts';

export function sendNotFound(res: ServerResponse): void {
  sendJson(res, 404, { message: 'Not Found' });
}

export function sendMethodNotAllowed(res: ServerResponse, allowed: string): void {
  sendJson(res, 405, { message: 'Method Not Allowed' }, { allow: allowed });
}
