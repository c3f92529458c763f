import type pg from 'pg';
import { type SourceRef } from '../types.ts';
import type { PostgresWarehouse as Warehouse } from './connection.ts';
import { AccessRefused } from '../errors.ts';
import { READER_ROLE_QUERY, type ReaderRoleFacts, type ReaderRoleFinding, type ReaderRoleReport, queryParameters } from './reader-facts.ts';
import { describeReaderRole, readerRoleSummary, shown } from './reader-findings.ts';
import { readerRoleSql } from './reader-setup.ts';

export { CHECKED_EXTENSIONS, CHECKED_FUNCTION_NAMES } from './reader-risks.ts';
export type { FunctionFacts, MembershipFacts, ReaderRoleFacts, ReaderRoleFinding, ReaderRoleReport, RoleFacts } from './reader-facts.ts';
export { describeReaderRole, readerRoleSummary } from './reader-findings.ts';
export { readerRoleSql } from './reader-setup.ts';
export { activationRoleName, DEFAULT_READER_ROLE, PER_ACTIVATION_ROLE_PREFIX } from '../reader-names.ts';


/**
 * What the connection's role can do beyond reading, in one catalog query (a few milliseconds), on
 * a connection already open: it runs before every read, inside the read's own transaction.
 */
export async function inspectReaderRole(client: pg.ClientBase, options: { appRole?: string } = {}): Promise<ReaderRoleReport> {
  // The extended protocol carries exactly one statement.
  const query: pg.QueryConfig & { queryMode: 'extended' } = { text: READER_ROLE_QUERY, values: queryParameters(), queryMode: 'extended' };
  const result = await client.query<ReaderRoleFacts>(query);
  const facts = result.rows[0];
  if (!facts) throw new Error('the reader role query returned no row');
  return describeReaderRole(facts, options);
}

export interface ReaderRoleErrorDetails {
  role: string;
  database: string;
  /** each problem with the SQL that takes it away */
  findings?: readonly ReaderRoleFinding[];
  /** what the activations read, for the grants of the role to create instead */
  sources?: readonly SourceRef[];
}

export class ReaderRoleError extends AccessRefused {
  override readonly name = 'ReaderRoleError';
  /** the SQL that takes away what the role can do beyond reading, problem by problem */
  readonly fixSql: readonly string[];
  /** the SQL that creates a least-privilege reader instead */
  readonly setupSql: string;

  constructor(problems: readonly string[], details: ReaderRoleErrorDetails) {
    const fixSql = [...new Set((details.findings ?? []).flatMap((finding) => finding.fix))];
    const setupSql = readerRoleSql({ database: details.database, sources: details.sources ?? [] });
    const listed = problems.map((problem) => `  - ${problem}`).join('\n');
    const indented = (lines: readonly string[]) => lines.map((line) => `  ${line}`).join('\n');
    super(
      fixSql.length > 0
        ? `The warehouse connection (role ${shown(details.role)}) may do more than read the segments it was granted:\n${listed}\n` +
            `Take that away (as an administrator of the warehouse) with:\n\n${indented(fixSql)}\n\n` +
            `or read segments with a role of their own, created with:\n\n${setupSql}\n`
        : `The warehouse connection (role ${shown(details.role)}) may do more than read the segments it was granted:\n${listed}\n` +
            `Segments must be read by a role of their own. Create it (as an administrator of the warehouse) with:\n\n${setupSql}\n`,
      problems,
      readerRoleSummary(problems),
    );
    this.fixSql = fixSql;
    this.setupSql = setupSql;
  }
}

/** What is wrong with the warehouse connection's role, or an empty list. */
export async function readerRoleProblems(warehouse: Warehouse, options: { appRole?: string } = {}): Promise<ReaderRoleReport> {
  return await warehouse.read(
    { statementTimeoutMs: 15_000 },
    async (session) => {
      const result = await session.query<ReaderRoleFacts>({ sql: READER_ROLE_QUERY, parameters: queryParameters() });
      const facts = result.rows[0];
      if (!facts) throw new Error('the reader role query returned no row');
      return describeReaderRole(facts, options);
    },
    // The check is this read's whole purpose: it reports what the read's own check would refuse.
    { checkRole: false },
  );
}

/** Throws ReaderRoleError, with the SQL to fix it, when the warehouse role may do more than read. */
export async function assertReaderRole(warehouse: Warehouse, sources: readonly SourceRef[] = [], options: { appRole?: string } = {}): Promise<void> {
  const report = await readerRoleProblems(warehouse, options);
  if (report.problems.length > 0) throw new ReaderRoleError(report.problems, { ...report, sources });
}
