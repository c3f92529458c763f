/** `GET /v1/resources/metadata/locales`: public, no token (the real one wants only an apikey). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendRaw } from '../http-io.ts';
import { LOCALES_RESPONSE_BODY } from '../locale-metadata.ts';
import { sendMethodNotAllowed } from './common.ts';

export const LOCALES_PATH = '/v1/resources/metadata/locales';

const LOCALES_JSON = JSON.stringify(LOCALES_RESPONSE_BODY);

export function handleLocales(req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'GET') return sendMethodNotAllowed(res, 'GET');
  sendRaw(res, 200, LOCALES_JSON, 'application/json; charset=utf-8');
}
