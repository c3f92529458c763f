import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkWarehouses } from '../../src/runtime/services.ts';
import { MySqlSource } from '../../src/source/mysql/index.ts';
import { Warehouses, warehouseConfigsFrom } from '../../src/source/warehouses.ts';
import { createTestContext, runCli, serviceDestination, ORDER_MAPPING, type TestContext } from './harness.ts';
import { createMySqlOrders, createShopDatabase, mariaDbVersion, type ShopDatabase } from './mysql-harness.ts';
import { workerEnvFor } from './processes.ts';

/**
 * Least privilege on a MySQL warehouse, as the operator meets it: a user that can do more than
 * read what it was granted (a global privilege, a grant on the `mysql` schema, GRANT OPTION, a role
 * holding any of them) is refused by the engine's check, at worker start, and by `validate`, each
 * refusal naming the grant, the REVOKE that takes it away and the CREATE USER / GRANT SELECT of a
 * proper reader; `reader-sql` prints MySQL's grants; `validate` suggests the table or column meant.
 */

const GLOBALS = ['FILE', 'SUPER', 'PROCESS', 'RELOAD', 'SHUTDOWN', 'CREATE USER'] as const;

describe(`least privilege on MariaDB ${mariaDbVersion()}`, () => {
  let shop: ShopDatabase;
  let ctx: TestContext;
  let dir: string;

  beforeAll(async () => {
    shop = await createShopDatabase('privileges');
    await createMySqlOrders(shop, 'orders', []);
    ctx = await createTestContext('mysql-privileges');
    dir = await mkdtemp(join(tmpdir(), 'tpi-mysql-cli-'));
  });
  afterAll(async () => {
    await ctx?.close();
    await shop?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const problemsOf = async (url: string) => (await new MySqlSource('shop', url, 'WAREHOUSE_SHOP_URL').checkAccess()).problems.join('\n');

  it('accepts a user granted SELECT alone, and refuses each global privilege, the mysql schema, GRANT OPTION and a role that holds FILE', async () => {
    expect(await problemsOf(shop.reader.url)).toBe('');
    for (const privilege of GLOBALS) {
      const user = await shop.createUser('tpi_g', ['GRANT SELECT ON ?.* TO {user}', `GRANT ${privilege} ON *.* TO {user}`]);
      expect(await problemsOf(user.url), privilege).toMatch(new RegExp(`has the global privilege ${privilege}: `));
    }
    const schema = await shop.createUser('tpi_m', ['GRANT SELECT ON ?.* TO {user}', 'GRANT SELECT ON mysql.* TO {user}']);
    expect(await problemsOf(schema.url)).toMatch(/can read the mysql schema/);
    const table = await shop.createUser('tpi_t', ['GRANT SELECT ON ?.* TO {user}', 'GRANT SELECT ON mysql.user TO {user}']);
    expect(await problemsOf(table.url)).toMatch(/can read the mysql schema/);
    const granting = await shop.createUser('tpi_o', ['GRANT SELECT ON ?.* TO {user} WITH GRANT OPTION']);
    expect(await problemsOf(granting.url)).toMatch(/may grant its privileges on .* to others \(WITH GRANT OPTION\)/);
    const writer = await shop.createUser('tpi_i', ['GRANT SELECT, INSERT ON ?.* TO {user}']);
    expect(await problemsOf(writer.url)).toMatch(/may INSERT on .*: a segment needs only SELECT/);
    const role = `tpi_role_${Date.now().toString(36)}`;
    await shop.admin.query(`CREATE ROLE ${role}`);
    try {
      await shop.admin.query(`GRANT FILE ON *.* TO ${role}`);
      // Granted, not even made its default: a segment could SET ROLE to it.
      const member = await shop.createUser('tpi_r', ['GRANT SELECT ON ?.* TO {user}', `GRANT ${role} TO {user}`]);
      expect(await problemsOf(member.url)).toMatch(new RegExp(`role .*${role}.*global privilege FILE`));
    } finally {
      await shop.admin.query(`DROP ROLE ${role}`);
    }
  });

  it('a worker refuses to start on such a user, printing the REVOKE and the CREATE USER / GRANT SELECT of a proper reader', async () => {
    const user = await shop.createUser('tpi_s', ['GRANT SELECT ON ?.* TO {user}', 'GRANT PROCESS ON *.* TO {user}']);
    const env = { WAREHOUSE_SHOP_URL: user.url };
    const error = await checkWarehouses(new Warehouses(warehouseConfigsFrom(env), { env })).then(() => undefined, (failure: unknown) => failure as Error);
    expect(error?.message).toMatch(/^WAREHOUSE_SHOP_URL: The warehouse connection .* may do more than read/);
    expect(error?.message).toContain(`REVOKE PROCESS ON *.* FROM \`${user.user}\`@\`%\`;`);
    expect(error?.message).toContain(`CREATE USER 'trustpilot_segment_reader'@'%' IDENTIFIED BY '<choose a password>';`);
    expect(error?.message).not.toContain(new URL(user.url).password);
    const fine = { WAREHOUSE_SHOP_URL: shop.reader.url };
    await expect(checkWarehouses(new Warehouses(warehouseConfigsFrom(fine), { env: fine }))).resolves.toBeUndefined();
  });

  it('validate refuses such a user with its fix, suggests the table and column meant, and reader-sql prints the MySQL grants', async () => {
    const file = async (name: string, activations: Record<string, unknown>[]) => {
      const path = join(dir, name);
      await writeFile(path, JSON.stringify({ destinations: [serviceDestination('my-dest')], activations }));
      return path;
    };
    const activation = (id: string, source: Record<string, unknown>, mapping: Record<string, string> = ORDER_MAPPING) => ({
      id, destinationId: 'my-dest', source: { warehouse: 'shop', ...source }, primaryKey: 'order_id', mapping, schedule: { every: '1d' },
    });
    const typos = await file('typos.json', [
      activation('my-table', { kind: 'table', schema: shop.database, name: 'ordrs' }),
      activation('my-column', { kind: 'table', schema: shop.database, name: 'orders' }, { ...ORDER_MAPPING, consumerEmail: 'customer_emial' }),
    ]);
    const good = await file('good.json', [activation('my-orders', { kind: 'table', schema: shop.database, name: 'orders' })]);
    const wide = await shop.createUser('tpi_v', ['GRANT SELECT ON ?.* TO {user}', 'GRANT FILE ON *.* TO {user}']);
    const [validated, refused, printed] = await Promise.all([
      runCli(['validate', typos], workerEnvFor(ctx, { WAREHOUSE_SHOP_URL: shop.reader.url })),
      runCli(['validate', good], workerEnvFor(ctx, { WAREHOUSE_SHOP_URL: wide.url })),
      runCli(['reader-sql', good], workerEnvFor(ctx, { WAREHOUSE_SHOP_URL: shop.reader.url })),
    ]);
    expect(validated.code, validated.stdout + validated.stderr).toBe(1);
    expect(validated.stdout).toMatch(/activation 'my-table': source: .*doesn't exist.*did you mean 'orders'\?/);
    expect(validated.stdout).toMatch(/activation 'my-column': .*customer_emial.*did you mean 'customer_email'\?/);
    expect(refused.code, refused.stdout + refused.stderr).toBe(1);
    expect(refused.stdout).toContain('has the global privilege FILE');
    expect(refused.stdout).toContain(`REVOKE FILE ON *.* FROM \`${wide.user}\`@\`%\`;`);
    expect(refused.stdout).toContain(`GRANT SELECT ON \`${shop.database}\`.\`orders\` TO 'trustpilot_segment_reader'@'%';`);
    expect(printed.code, printed.stdout + printed.stderr).toBe(0);
    expect(printed.stdout).toContain(`-- warehouse 'shop' (mysql), read by my-orders:`);
    expect(printed.stdout).toContain(`CREATE USER 'trustpilot_segment_reader'@'%' IDENTIFIED BY '<choose a password>';`);
    expect(printed.stdout).toContain(`GRANT SELECT ON \`${shop.database}\`.\`orders\` TO 'trustpilot_segment_reader'@'%';`);
  });
});
