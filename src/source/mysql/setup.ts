import { createHash } from 'node:crypto';
import { DEFAULT_READER_ROLE, PER_ACTIVATION_ROLE_PREFIX } from '../reader-names.ts';
import { isTableRef, type ActivationSource, type SourceRef } from '../types.ts';
import { quoteId, quoteString } from './sql.ts';

/** MySQL 8 allows user names of up to 32 characters (MariaDB 80): names stay within the smaller. */
const USER_NAME_MAX = 32;

/** The user of one activation: `<prefix>_<id>`, cut to 32 characters with a hash of the id when longer. */
export function activationUserName(activationId: string, prefix: string = PER_ACTIVATION_ROLE_PREFIX): string {
  const name = `${prefix}_${activationId.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`;
  if (name.length <= USER_NAME_MAX) return name;
  const hash = createHash('sha256').update(activationId).digest('hex').slice(0, 8);
  return `${name.slice(0, USER_NAME_MAX - hash.length - 1)}_${hash}`;
}

/** `'name'@'%'`, or the account as given when it already names its host (`` `reader`@`%` ``). */
export function accountOf(user: string): string {
  if (/^[`'].*[`']@[`'].*[`']$/.test(user)) return user;
  return `${quoteString(user)}@'%'`;
}

/** SELECT on each table or view an activation reads. */
function grants(account: string, sources: readonly SourceRef[]): string[] {
  const tables = sources.filter(isTableRef);
  return [...new Set(tables.map((source) => `GRANT SELECT ON ${quoteId(source.schema)}.${quoteId(source.name)} TO ${account};`))];
}

function userLines(user: string, sources: readonly SourceRef[]): string[] {
  const account = accountOf(user);
  const lines = [
    `CREATE USER ${account} IDENTIFIED BY '<choose a password>';`,
    ...grants(account, sources),
  ];
  if (sources.some((source) => source.kind === 'query') || sources.length === 0) {
    lines.push(`-- for each table (or view) a segment's query reads:`);
    lines.push(`GRANT SELECT ON \`<database>\`.\`<table>\` TO ${account};`);
  }
  return lines;
}

/**
 * The statements an administrator runs to create the reader user (or one user per activation)
 * and grant it SELECT on what the activations read, and nothing else: no global privilege, no
 * role, no grant option. `'%'` lets it connect from anywhere: name the worker's host instead where
 * it is known.
 */
export function readerUserSql(options: {
  database: string;
  sources: readonly ActivationSource[];
  perActivation?: boolean;
  role?: string;
  variable: string;
}): string {
  const lines: string[] = [];
  const url = (user: string) => `mysql://${user}:<password>@<host>:<port>/${options.database}`;
  if (options.perActivation) {
    lines.push(`-- One user per activation, each granted only what its activation reads. Users see only their own sessions without the PROCESS privilege, which none of them gets.`);
    if (options.sources.length === 0) lines.push('-- no activations: name activation files, or save them first (`cli apply`)');
    for (const activation of options.sources) {
      const user = activationUserName(activation.id, options.role ?? PER_ACTIVATION_ROLE_PREFIX);
      lines.push(`-- activation '${activation.id}'`);
      lines.push(...userLines(user, [activation.source]));
    }
    lines.push(`-- a worker reads every activation of a warehouse as one user, its ${options.variable}'s (${url('<user>')})`);
  } else {
    const user = options.role ?? DEFAULT_READER_ROLE;
    lines.push(...userLines(user, options.sources.map((entry) => entry.source)));
    lines.push(`-- then give the worker: ${options.variable}=${url(user)}`);
  }
  return lines.map((line) => `  ${line}`).join('\n');
}

/** The statement that lets `reader` read a table or view, for validate's advice. */
export function grantAdviceSql(source: SourceRef, reader: string): string | undefined {
  if (!isTableRef(source)) return undefined;
  return `GRANT SELECT ON ${quoteId(source.schema)}.${quoteId(source.name)} TO ${accountOf(reader)};`;
}
