import { withServices } from '../context.ts';
import { CliError, colors, printFields, printJson, printTable } from '../output.ts';
import { dryRun } from '../../preview/dry-run.ts';
import { testRow } from '../../preview/test-row.ts';
import { scanLimitsOf } from '../../runtime/services.ts';

export async function dryRunCommand(activationId: string, options: { sample: number; json?: boolean }): Promise<void> {
  await withServices(async (services) => {
    const report = await dryRun({ ...services, scanLimits: scanLimitsOf(services.env) }, activationId, { sample: options.sample });
    if (options.json) {
      printJson(report);
      return;
    }
    console.log(colors.bold(`Dry run of ${activationId}`) + colors.dim(' (nothing sent, nothing recorded)'));
    const scanned = report.scanned;
    const scannedNotes = [
      `${scanned.distinctKeys} keys`,
      scanned.duplicateKeys ? `${scanned.duplicateKeys} duplicate keys` : '',
      scanned.nullKeys ? `${scanned.nullKeys} without a key` : '',
      scanned.oversizedKeys ? `${scanned.oversizedKeys} with a key too long` : '',
    ].filter(Boolean);
    printFields([
      ['scan', report.fullScan ? 'the whole segment' : `rows with a cursor at or after ${report.cursorSince ?? '?'} (and rows without one)`],
      ['rows scanned', `${scanned.rows} (${scannedNotes.join(', ')})`],
      ['new rows', report.newRows],
      ...(report.firstRunBaseline ? [['recorded as baseline (first run, not invited)', report.baselineRows] as [string, number]] : []),
      ['fixed rejected rows (included in new rows)', report.reconsideredRows],
      ['already sent', report.alreadySent],
      ['retried from earlier runs', report.retriedRows],
      ['abandoned (past maxRunsForFailedRows)', report.abandonedRows],
    ]);
    const { sample } = report;
    console.log('');
    console.log(
      colors.bold(`Sample: ${sample.size} row(s) the run would build`) +
        `: ${colors.green(`${sample.valid} would be sent`)}, ${sample.rejected > 0 ? colors.red(`${sample.rejected} rejected`) : '0 rejected'}`,
    );
    if (sample.rejectionsByReason.length > 0) {
      printTable(sample.rejectionsByReason, [
        { header: 'rows', value: (entry) => entry.count },
        { header: 'reason', value: (entry) => entry.reason },
      ]);
    }
    for (const example of sample.examples) {
      console.log(colors.dim(`row ${example.rowKey}:`));
      console.log(JSON.stringify(example.payload, null, 2));
    }
  });
}

export async function testRowCommand(activationId: string, options: { key: string; send?: boolean; json?: boolean }): Promise<void> {
  await withServices(async (services) => {
    const report = await testRow(
      { db: services.db, appPool: services.appPool, warehouses: services.warehouses, env: process.env, trustpilot: { apiUrl: services.env.TRUSTPILOT_API_URL, invitationsApiUrl: services.env.TRUSTPILOT_INVITATIONS_API_URL } },
      activationId,
      options.key,
      { send: options.send ?? false },
    );
    if (options.json) {
      printJson(report);
    } else {
      printFields([
        ['row', `${report.rowKey} of ${activationId}`],
        ['ledger', report.ledgerStatus ?? 'not recorded yet (new)'],
        ['valid', report.valid ? colors.green('yes') : colors.red(`no: ${report.reasons.join('; ')}`)],
      ]);
      if (report.payload) {
        console.log(colors.dim('invitation (names and emails masked):'));
        console.log(JSON.stringify(report.payload, null, 2));
      }
      if (report.sent) {
        const answer = report.sent.status !== undefined ? `HTTP ${report.sent.status}` : 'no answer';
        const line = `run ${report.sent.runId}: ${report.sent.outcome} (${answer}${report.sent.invitationId ? `, invitation ${report.sent.invitationId}` : ''})${report.sent.reason ? ` — ${report.sent.reason}` : ''}`;
        console.log(report.sent.outcome === 'sent' ? colors.green(line) : colors.red(line));
      } else if (report.valid) {
        console.log(colors.dim(`add --send to send exactly this invitation`));
      }
    }
    if (report.sent && report.sent.outcome !== 'sent') process.exitCode = 2;
    // The report above says why; scripts learn it from the exit code, as from any other refusal.
    if (!report.valid) throw new CliError(`row ${report.rowKey} of ${activationId} is not valid: a run would reject it, not send it`);
  });
}
