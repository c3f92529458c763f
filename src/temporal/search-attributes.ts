import type { Client } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import proto from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../run/types.ts';

/** The search attributes every run carries; the UI filters and lists runs by them. */
export const searchAttributes = {
  activationId: defineSearchAttributeKey(SEARCH_ATTRIBUTES.activationId, SearchAttributeType.KEYWORD),
  destinationId: defineSearchAttributeKey(SEARCH_ATTRIBUTES.destinationId, SearchAttributeType.KEYWORD),
  outcome: defineSearchAttributeKey(SEARCH_ATTRIBUTES.outcome, SearchAttributeType.KEYWORD),
  rejectedRows: defineSearchAttributeKey(SEARCH_ATTRIBUTES.rejectedRows, SearchAttributeType.INT),
  result: defineSearchAttributeKey(SEARCH_ATTRIBUTES.result, SearchAttributeType.TEXT),
};

export const allSearchAttributes = Object.values(searchAttributes);

/** The attributes a namespace lacks; runs cannot record their outcome until they are registered. */
export async function missingSearchAttributes(client: Client, namespace: string): Promise<string[]> {
  const response = await client.connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set(Object.keys(response.customAttributes ?? {}));
  return allSearchAttributes.filter((key) => !known.has(key.name)).map((key) => key.name);
}

// The proto package is CommonJS: its namespaces come through the default export.
const { IndexedValueType } = proto.temporal.api.enums.v1;
const INDEXED_VALUE_TYPES: Record<string, proto.temporal.api.enums.v1.IndexedValueType> = {
  [SearchAttributeType.KEYWORD]: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  [SearchAttributeType.INT]: IndexedValueType.INDEXED_VALUE_TYPE_INT,
  [SearchAttributeType.TEXT]: IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
};

/** Registers the missing attributes on a namespace (needs operator rights on the cluster); returns their names. */
export async function registerSearchAttributes(client: Client, namespace: string): Promise<string[]> {
  const missing = new Set(await missingSearchAttributes(client, namespace));
  if (missing.size === 0) return [];
  const toAdd = allSearchAttributes.filter((key) => missing.has(key.name));
  await client.connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(toAdd.map((key) => [key.name, INDEXED_VALUE_TYPES[key.type] ?? IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD])),
  });
  return toAdd.map((key) => key.name);
}
