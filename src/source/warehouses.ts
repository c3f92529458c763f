import { readFileSync } from 'node:fs';
import { PublicError } from '../domain/public-error.ts';
import { createFilesSource } from './files/index.ts';
import { createMySqlSource } from './mysql/index.ts';
import { PostgresSource } from './postgres/index.ts';
import type { SegmentSource } from './types.ts';

/**
 * The warehouses segments are read from, each configured in the worker's environment by
 * reference and never stored: WAREHOUSE_DATABASE_URL is the warehouse `default`; any
 * WAREHOUSE_<NAME>_URL (or WAREHOUSE_<NAME>_URL_FILE, a file holding it) is the warehouse
 * `<name>` in lower case. The URL's scheme picks the engine:
 *
 *   postgres://, postgresql://         a Postgres database, read as a least-privilege role
 *   mysql://, mariadb://               a MySQL or MariaDB database, read as a least-privilege user
 *   file:///a/folder, /a/folder        CSV and Parquet files under that folder
 *   s3://bucket/prefix, gs://bucket/…  CSV and Parquet files in object storage (see files/)
 */

export const DEFAULT_WAREHOUSE = 'default';

export interface WarehouseConfig {
  name: string;
  /** the variable that configures it, for messages */
  variable: string;
  url: string;
}

/** The configuration names a warehouse the environment does not configure. */
export class WarehouseNotConfigured extends PublicError {
  override readonly name = 'WarehouseNotConfigured';
}

const NAMED = /^WAREHOUSE_([A-Z][A-Z0-9_]*)_URL(_FILE)?$/;

function readUrl(variable: string, value: string, fromFile: boolean): string {
  if (!fromFile) return value.trim();
  try {
    return readFileSync(value.trim(), 'utf8').trim();
  } catch (error) {
    throw new WarehouseNotConfigured(`${variable} names a file that cannot be read (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
}

/** Every warehouse an environment configures; `fallbackUrl` is the default's when WAREHOUSE_DATABASE_URL is unset. */
export function warehouseConfigsFrom(env: NodeJS.ProcessEnv, fallbackUrl?: string): WarehouseConfig[] {
  const configs = new Map<string, WarehouseConfig>();
  const defaultUrl = env.WAREHOUSE_DATABASE_URL?.trim() || fallbackUrl;
  if (defaultUrl) {
    configs.set(DEFAULT_WAREHOUSE, {
      name: DEFAULT_WAREHOUSE,
      variable: env.WAREHOUSE_DATABASE_URL?.trim() ? 'WAREHOUSE_DATABASE_URL' : 'WAREHOUSE_DATABASE_URL (unset, so DATABASE_URL)',
      url: defaultUrl,
    });
  }
  for (const [variable, value] of Object.entries(env)) {
    const match = NAMED.exec(variable);
    if (!match || value === undefined || value.trim() === '' || variable === 'WAREHOUSE_DATABASE_URL') continue;
    const name = (match[1] ?? '').toLowerCase();
    if (name === 'database') continue;
    // The variable itself wins over its _FILE form.
    if (match[2] && env[`WAREHOUSE_${match[1] ?? ''}_URL`]?.trim()) continue;
    configs.set(name, { name, variable, url: readUrl(variable, value, match[2] !== undefined) });
  }
  return [...configs.values()];
}

export interface WarehouseOptions {
  /** the app database's own role: a warehouse that is, or can become, it is refused */
  appRole?: string;
  /** the environment the engines read their own settings from (object storage credentials) */
  env: NodeJS.ProcessEnv;
}

/** Where a URL points, for messages: never its password. */
export function whereOf(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.protocol === 'file:') return parsed.pathname;
    return `${parsed.protocol}//${parsed.username ? `${decodeURIComponent(parsed.username)}@` : ''}${parsed.host}${parsed.pathname}`;
  } catch {
    return url.startsWith('/') ? url : 'an unparsable URL';
  }
}

function createSource(config: WarehouseConfig, options: WarehouseOptions): SegmentSource {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(config.url)?.[1]?.toLowerCase();
  const engineOptions = options.appRole === undefined ? {} : { appRole: options.appRole };
  switch (scheme) {
    case 'postgres':
    case 'postgresql':
      return new PostgresSource(config.name, config.url, engineOptions);
    case 'mysql':
    case 'mariadb':
      return createMySqlSource(config.name, config.url, { ...engineOptions, variable: config.variable });
    case 'file':
    case 's3':
    case 'gs':
    case 'gcs':
    case undefined:
      if (scheme === undefined && !config.url.startsWith('/')) break;
      return createFilesSource(config.name, config.url, { env: options.env, variable: config.variable });
    default:
      break;
  }
  throw new WarehouseNotConfigured(
    `${config.variable}: a warehouse URL starts with postgres://, mysql://, mariadb://, file://, s3:// or gs:// (or is an absolute folder path); this one is ${whereOf(config.url)}`,
  );
}

/** The warehouses of one process, each opened on first use and closed together. */
export class Warehouses {
  private readonly sources = new Map<string, SegmentSource>();
  private readonly configs: Map<string, WarehouseConfig>;

  constructor(
    configs: readonly WarehouseConfig[],
    private readonly options: WarehouseOptions,
  ) {
    this.configs = new Map(configs.map((config) => [config.name, config]));
  }

  /** the names configured, `default` first */
  names(): string[] {
    return [...this.configs.keys()].sort((a, b) => (a === DEFAULT_WAREHOUSE ? -1 : b === DEFAULT_WAREHOUSE ? 1 : a.localeCompare(b)));
  }

  configOf(name: string): WarehouseConfig | undefined {
    return this.configs.get(name);
  }

  get(name: string = DEFAULT_WAREHOUSE): SegmentSource {
    const existing = this.sources.get(name);
    if (existing) return existing;
    const config = this.configs.get(name);
    if (!config) {
      const variable = name === DEFAULT_WAREHOUSE ? 'WAREHOUSE_DATABASE_URL' : `WAREHOUSE_${name.toUpperCase()}_URL`;
      const known = this.names();
      throw new WarehouseNotConfigured(
        `warehouse '${name}' is not configured here: set ${variable} (or ${variable}_FILE) in the worker's environment${known.length > 0 ? `; configured: ${known.join(', ')}` : ''}`,
      );
    }
    const source = createSource(config, this.options);
    this.sources.set(name, source);
    return source;
  }

  async close(): Promise<void> {
    const open = [...this.sources.values()];
    this.sources.clear();
    await Promise.all(open.map((source) => source.close().catch(() => undefined)));
  }
}

/** The warehouses of `WAREHOUSE_DATABASE_URL=url` alone: a Postgres reader as the default one. */
export function postgresWarehouseLookup(url: string): Warehouses {
  const env = { WAREHOUSE_DATABASE_URL: url };
  return new Warehouses(warehouseConfigsFrom(env), { env });
}
