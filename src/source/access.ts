import type { AccessReport, ActivationSource, SegmentSource } from './types.ts';

/**
 * What an operator reads when a warehouse connection may do more than read: every problem, the
 * statements that take each away, then how to set up a proper reader instead.
 */
export function accessRefusalText(source: SegmentSource, report: AccessReport, sources: readonly ActivationSource[] = []): string {
  const listed = report.problems.map((problem) => `  - ${problem}`).join('\n');
  const fixes = [...new Set(report.findings.flatMap((finding) => finding.fix))];
  const setup = source.setupSql({ sources });
  const head = `The warehouse connection (${report.identity} on ${report.location}) may do more than read the segments it was granted:\n${listed}\n`;
  return fixes.length > 0
    ? `${head}Take that away (as an administrator of the warehouse) with:\n\n${fixes.map((line) => `  ${line}`).join('\n')}\n\nor read segments with a reader of their own, set up with:\n\n${setup}\n`
    : `${head}Segments must be read by a reader of their own. Set it up (as an administrator of the warehouse) with:\n\n${setup}\n`;
}
