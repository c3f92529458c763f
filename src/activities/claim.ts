import { buildInvitation, describeRowIssues, parseDuration, type ResolvedActivation } from '../domain/index.ts';
import type { Json, LedgerStatus } from '../db/schema.ts';
import { SourceKeyError, readSourcePage, type SourceRef } from '../source/reader.ts';
import { fingerprintOf, laterCursorValue, rowKeyOf, toKeyValue, type KeyValue } from '../source/row-key.ts';
import type { ClaimResult } from '../workflows/types.ts';
import { DEFAULT_PAGE_SIZE, type ActivityDeps } from './deps.ts';
import { describeSourceError, isSourceConfigError, misconfigured } from './failures.ts';
import type { RunConfig } from './run-config.ts';

const CLAIMABLE_STATUSES: LedgerStatus[] = ['pending', 'sending', 'failed'];

function mappedValues(row: Record<string, unknown>, resolved: ResolvedActivation): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [field, column] of Object.entries(resolved.mapping)) {
    if (typeof column === 'string') values[field] = row[column];
  }
  return values;
}

/** The cursor column narrows the scan to rows at or after (watermark − look-back); the ledger still decides. */
function cursorSince(config: RunConfig, watermarkBefore: Json | null): string | null {
  const cursor = config.activation.cursor;
  if (!cursor || watermarkBefore === null || typeof watermarkBefore !== 'string') return null;
  const watermark = Date.parse(watermarkBefore);
  if (Number.isNaN(watermark)) return null;
  return new Date(watermark - parseDuration(cursor.lookback)).toISOString();
}

function sourceRef(config: RunConfig): SourceRef {
  const source = config.activation.source;
  return source.kind === 'query' ? { kind: 'query', sql: source.sql } : { kind: source.kind, schema: source.schema, name: source.name };
}

export function createClaimActivity(deps: ActivityDeps, runConfig: (runId: number) => Promise<RunConfig>) {
  const { db } = deps;
  const pageSize = deps.pageSize ?? DEFAULT_PAGE_SIZE;

  /**
   * Reads page `page` of the source, diffs it against the ledger, and records every new row
   * (pending, rejected with its reasons, or baseline) before anything is sent. Idempotent per
   * (run, page): a retried or replayed call returns the same ledger ids without reading again.
   */
  async function claimNewRows(input: { runId: number; page: number }): Promise<ClaimResult> {
    const config = await runConfig(input.runId);
    const { activation, resolved } = config;

    return await db.transaction().execute(async (trx) => {
      const run = await trx.selectFrom('app.runs').selectAll().where('id', '=', input.runId).forUpdate().executeTakeFirstOrThrow();
      if (run.status !== 'running') return { entryIds: [], done: true };
      if (run.scan_page >= input.page) {
        const already = await trx
          .selectFrom('app.ledger')
          .select('id')
          .where('last_run_id', '=', input.runId)
          .where('claimed_page', '=', input.page)
          .where('status', 'in', CLAIMABLE_STATUSES)
          .orderBy('id')
          .execute();
        return { entryIds: already.map((row) => row.id), done: run.scan_done && run.scan_page === input.page };
      }
      if (run.scan_done) return { entryIds: [], done: true };
      if (run.scan_page !== input.page - 1) {
        throw new Error(`Run ${input.runId} is at page ${run.scan_page}; page ${input.page} cannot be claimed yet`);
      }

      const scanAfter = run.scan_after as { key: KeyValue[]; seen: number } | null;
      let page;
      try {
        page = await readSourcePage(deps.warehouse, {
          source: sourceRef(config),
          primaryKey: activation.primaryKey,
          after: scanAfter?.key ?? null,
          cursor: activation.cursor ? { column: activation.cursor.column, since: cursorSince(config, run.watermark_before) } : undefined,
          limit: pageSize,
        });
      } catch (error) {
        if (isSourceConfigError(error)) {
          throw misconfigured(`The source of activation '${activation.id}' cannot be read: ${describeSourceError(error)}`);
        }
        if (error instanceof SourceKeyError) throw misconfigured(`Activation '${activation.id}': ${error.message}`);
        throw error;
      }

      // Rows re-read at the page boundary beyond those the previous page already saw are duplicates.
      let duplicates = Math.max(0, page.repeatedAfterKey - (scanAfter?.seen ?? 0));
      let maxCursor = (run.max_cursor as KeyValue) ?? null;
      const byKey = new Map<string, Record<string, unknown>>();
      for (const row of page.rows) {
        const key = rowKeyOf(row, activation.primaryKey);
        if (byKey.has(key)) {
          duplicates++;
          continue;
        }
        byKey.set(key, row);
        if (activation.cursor) maxCursor = laterCursorValue(maxCursor, toKeyValue(row[activation.cursor.column]));
      }

      const keys = [...byKey.keys()];
      const known =
        keys.length === 0
          ? []
          : await trx
              .selectFrom('app.ledger')
              .select(['id', 'row_key', 'status', 'fingerprint', 'last_run_id'])
              .where('activation_id', '=', activation.id)
              .where('row_key', 'in', keys)
              .execute();
      const knownByKey = new Map(known.map((entry) => [entry.row_key, entry]));

      const baseline = run.first_run && activation.firstRunPolicy === 'baseline';
      let newRows = 0;
      let alreadySent = 0;
      let baselineRows = 0;
      const inserts = [];
      const reconsidered: { id: number; status: LedgerStatus; fingerprint: string; payload: string | null; error: string | null }[] = [];
      for (const [key, row] of byKey) {
        const values = mappedValues(row, resolved);
        const fingerprint = fingerprintOf(values);
        const existing = knownByKey.get(key);
        if (existing) {
          // Rows this run itself retried and sent are not 'already sent' by an earlier run.
          if (existing.status === 'sent' && existing.last_run_id !== input.runId) alreadySent++;
          // Insert-only: a known row is never sent again, unless it was rejected for its data and the data changed.
          if (existing.status !== 'rejected' || existing.fingerprint === fingerprint) continue;
        }
        let status: LedgerStatus;
        let payload: string | null = null;
        let error: string | null = null;
        if (baseline) {
          status = 'baseline';
          baselineRows++;
        } else {
          const built = buildInvitation(row, resolved);
          if (built.ok) {
            status = 'pending';
            payload = JSON.stringify(built.payload);
          } else {
            status = 'rejected';
            error = describeRowIssues(built.issues);
          }
          newRows++;
        }
        if (existing) reconsidered.push({ id: existing.id, status, fingerprint, payload, error });
        else inserts.push({ key, status, fingerprint, payload, error });
      }

      if (inserts.length > 0) {
        await trx
          .insertInto('app.ledger')
          .values(
            inserts.map((entry) => ({
              activation_id: activation.id,
              row_key: entry.key,
              status: entry.status,
              fingerprint: entry.fingerprint,
              payload: entry.payload,
              error_class: entry.status === 'rejected' ? 'invalid_row' : null,
              error_message: entry.error,
              first_run_id: input.runId,
              last_run_id: input.runId,
              claimed_page: input.page,
            })),
          )
          // A concurrent claim of the same key (impossible while one run holds the activation) must not double it.
          .onConflict((oc) => oc.columns(['activation_id', 'row_key']).doNothing())
          .execute();
      }
      for (const entry of reconsidered) {
        await trx
          .updateTable('app.ledger')
          .set({
            status: entry.status,
            fingerprint: entry.fingerprint,
            payload: entry.payload,
            error_class: entry.status === 'rejected' ? 'invalid_row' : null,
            error_message: entry.error,
            last_run_id: input.runId,
            claimed_page: input.page,
            updated_at: new Date(),
          })
          .where('id', '=', entry.id)
          .where('status', '=', 'rejected')
          .execute();
      }

      const done = page.nextAfter === null;
      await trx
        .updateTable('app.runs')
        .set((eb) => ({
          scan_page: input.page,
          scan_after: page.nextAfter === null ? null : JSON.stringify({ key: page.nextAfter, seen: page.rowsAtNextAfter }),
          scan_done: done,
          max_cursor: maxCursor === null ? null : JSON.stringify(maxCursor),
          source_rows: eb('source_rows', '+', byKey.size + duplicates),
          new_rows: eb('new_rows', '+', newRows),
          duplicate_keys: eb('duplicate_keys', '+', duplicates),
          baseline_rows: eb('baseline_rows', '+', baselineRows),
          skipped_already_sent: eb('skipped_already_sent', '+', alreadySent),
        }))
        .where('id', '=', input.runId)
        .execute();

      const claimed = await trx
        .selectFrom('app.ledger')
        .select('id')
        .where('last_run_id', '=', input.runId)
        .where('claimed_page', '=', input.page)
        .where('status', '=', 'pending')
        .orderBy('id')
        .execute();
      return { entryIds: claimed.map((row) => row.id), done };
    });
  }

  return { claimNewRows };
}
