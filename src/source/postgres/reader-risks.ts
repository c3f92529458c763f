/**
 * Segment SQL is the marketer's own, so it runs with the privileges of a dedicated reader role:
 * SELECT on what the operator granted, nothing else. The product refuses a warehouse connection
 * that can reach more, and says exactly how to take it away or create the right role.
 *
 * "Reach" is every role the connection is a member of, directly or through other roles, with or
 * without INHERIT: a member that does not inherit a role's privileges can still SET ROLE to it,
 * and segment SQL can do that inside its own SELECT (`set_config('role', …, true)`).
 */

/**
 * Built-in roles and what membership gives. Every built-in role a server has is refused, named
 * here or not (a newer release adds more): only pg_database_owner is harmless, and no role can be
 * granted it (owning the database makes one a member).
 */
export const BUILT_IN_ROLES: Readonly<Record<string, string>> = {
  pg_read_all_data: 'reads every table, view and sequence',
  pg_write_all_data: 'writes every table',
  pg_read_server_files: 'reads any file the server can',
  pg_write_server_files: 'writes files on the server',
  pg_execute_server_program: 'runs programs on the server',
  pg_signal_backend: 'cancels and terminates other sessions',
  pg_signal_autovacuum_worker: 'signals autovacuum workers',
  pg_read_all_settings: 'reads every setting, secret ones included',
  pg_read_all_stats: "sees every session's queries and the server's statistics",
  pg_stat_scan_tables: 'runs monitoring functions that lock tables',
  pg_monitor: "sees every session's queries, every setting and the server's log and WAL files",
  pg_checkpoint: 'forces checkpoints',
  pg_maintain: 'vacuums, analyzes, reindexes, refreshes and locks every table',
  pg_create_subscription: 'creates subscriptions that connect to other servers',
  pg_use_reserved_connections: 'takes the connections reserved for administrators',
};
export const HARMLESS_BUILT_IN_ROLES = new Set(['pg_database_owner']);

/**
 * Functions a default install keeps from PUBLIC because EXECUTE is all that guards them. Functions
 * every role may call and that check privileges themselves are not listed: the replication-slot
 * functions check REPLICATION (refused above), pg_terminate_backend checks pg_signal_backend, and
 * lo_create or set_config cannot outlive a read-only transaction that is never committed.
 */
export const FUNCTION_RISKS: readonly { what: string; names?: readonly string[]; prefix?: string; suffix?: string }[] = [
  { what: "reads the server's files", names: ['pg_read_file', 'pg_read_binary_file', 'lo_import'] },
  { what: "lists and inspects the server's files", names: ['pg_stat_file', 'pg_ls_dir', 'pg_logdir_ls', 'pg_current_logfile'], prefix: 'pg_ls_', suffix: 'dir' },
  { what: "writes the server's files", names: ['lo_export', 'pg_file_write', 'pg_file_rename', 'pg_file_unlink', 'pg_file_sync'] },
  {
    what: 'controls the server (configuration reload, log rotation, promotion, WAL, backups)',
    names: [
      'pg_reload_conf',
      'pg_rotate_logfile',
      'pg_promote',
      'pg_switch_wal',
      'pg_create_restore_point',
      'pg_backup_start',
      'pg_backup_stop',
      'pg_start_backup',
      'pg_stop_backup',
      'pg_wal_replay_pause',
      'pg_wal_replay_resume',
      'pg_log_standby_snapshot',
      'pg_log_backend_memory_contexts',
    ],
  },
  { what: "resets the server's statistics (not undone by a rollback)", prefix: 'pg_stat_reset' },
  { what: 'manages replication origins', names: ['pg_show_replication_origin_status'], prefix: 'pg_replication_origin_' },
  {
    what: "reads the server's configuration files and internals",
    names: ['pg_hba_file_rules', 'pg_ident_file_mappings', 'pg_show_all_file_settings', 'pg_config', 'pg_get_backend_memory_contexts', 'pg_get_shmem_allocations', 'pg_get_shmem_allocations_numa', 'pg_get_aios'],
  },
];

/** Extensions any of whose functions is refused: they reach outside the read's transaction. */
export const EXTENSION_RISKS: Readonly<Record<string, { what: string; named: readonly string[] }>> = {
  dblink: { what: 'they open connections of their own, outside the read-only transaction', named: ['dblink', 'dblink_connect', 'dblink_exec'] },
};

/** Function names the check looks for (besides the prefixes and the extensions' functions). */
export const CHECKED_FUNCTION_NAMES: readonly string[] = FUNCTION_RISKS.flatMap((risk) => risk.names ?? []);
/** Extensions whose every function the check looks for. */
export const CHECKED_EXTENSIONS: readonly string[] = Object.keys(EXTENSION_RISKS);

export function riskOfFunction(name: string): string | undefined {
  return FUNCTION_RISKS.find(
    (risk) => risk.names?.includes(name) || (risk.prefix !== undefined && name.startsWith(risk.prefix) && name.endsWith(risk.suffix ?? '')),
  )?.what;
}
