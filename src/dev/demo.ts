import { sql, type Kysely } from 'kysely';
import type { UntypedDb } from '../db/database.ts';

export const DEMO_DESTINATION_ID = 'demo-trustpilot';
export const DEMO_ACTIVATION_ID = 'demo-orders';

const FIRST_NAMES = ['Alice', 'Bjørn', 'Chloé', 'Dmitri', 'Emma', 'Farah', 'Gustav', 'Hana', 'Ines', 'Jonas', 'Kaito', 'Lena'];
const LAST_NAMES = ['Andersen', 'Berg', 'Costa', 'Dubois', 'Evans', 'Fischer', 'García', 'Hansen', 'Ivanova', 'Jensen'];
const LOCALES = ['en-US', 'en-GB', 'da-DK', 'de-DE', 'fr-FR', null];

interface DemoOrder {
  order_id: string;
  customer_name: string;
  customer_email: string;
  locale: string | null;
  created_at: Date;
}

function demoOrder(sequence: number, createdAt: Date): DemoOrder {
  const first = FIRST_NAMES[sequence % FIRST_NAMES.length] ?? 'Alex';
  const last = LAST_NAMES[Math.floor(sequence / FIRST_NAMES.length) % LAST_NAMES.length] ?? 'Smith';
  // Every 97th order carries a typo'd address, so the demo shows how bad rows are reported.
  const domain = sequence % 97 === 13 ? 'example' : 'example.com';
  return {
    order_id: `ORD-${String(sequence).padStart(6, '0')}`,
    customer_name: `${first} ${last}`,
    customer_email: `${first.toLowerCase().normalize('NFD').replace(/[^a-z]/g, '')}.${sequence}@${domain}`,
    locale: LOCALES[sequence % LOCALES.length] ?? null,
    created_at: createdAt,
  };
}

/** A warehouse table of orders, created and filled once (as the warehouse's administrator). */
export async function seedDemoWarehouse(warehouse: UntypedDb, initialOrders = 300): Promise<void> {
  await warehouse.schema.createSchema('demo').ifNotExists().execute();
  await warehouse.schema
    .withSchema('demo')
    .createTable('orders')
    .ifNotExists()
    .addColumn('order_id', 'text', (col) => col.primaryKey())
    .addColumn('customer_name', 'text', (col) => col.notNull())
    .addColumn('customer_email', 'text', (col) => col.notNull())
    .addColumn('locale', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  const { count } = await (warehouse as Kysely<{ 'demo.orders': DemoOrder }>)
    .selectFrom('demo.orders')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .executeTakeFirstOrThrow();
  if (Number(count) > 0) return;
  const now = Date.now();
  const orders = Array.from({ length: initialOrders }, (_, index) =>
    demoOrder(index + 1, new Date(now - (initialOrders - index) * 60_000)),
  );
  await (warehouse as Kysely<{ 'demo.orders': DemoOrder }>).insertInto('demo.orders').values(orders).execute();
}

/** New orders arriving, as they would in a live warehouse. */
export async function insertDemoOrders(warehouse: UntypedDb, howMany: number): Promise<number> {
  const db = warehouse as Kysely<{ 'demo.orders': DemoOrder }>;
  const { count } = await db
    .selectFrom('demo.orders')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .executeTakeFirstOrThrow();
  const start = Number(count) + 1;
  const orders = Array.from({ length: howMany }, (_, index) => demoOrder(start + index, new Date()));
  await db.insertInto('demo.orders').values(orders).onConflict((oc) => oc.column('order_id').doNothing()).execute();
  return orders.length;
}

export function demoDestination(businessUnitId: string, rateLimit?: { calls: number; perSeconds: number }): Record<string, unknown> {
  return {
    ...(rateLimit ? { rateLimit } : {}),
    id: DEMO_DESTINATION_ID,
    name: 'Demo Trustpilot business',
    businessUnitId,
    invitationType: 'service',
    defaults: { senderName: 'Demo Shop' },
    credentials: { grant: 'client_credentials' },
  };
}

export function demoActivation(options: { paused: boolean }): Record<string, unknown> {
  return {
    id: DEMO_ACTIVATION_ID,
    name: 'Invite every customer after their order',
    destinationId: DEMO_DESTINATION_ID,
    source: { kind: 'table', schema: 'demo', name: 'orders' },
    primaryKey: ['order_id'],
    cursor: { column: 'created_at', lookback: '1h' },
    mapping: {
      consumerName: 'customer_name',
      consumerEmail: 'customer_email',
      referenceNumber: 'order_id',
      locale: 'locale',
    },
    schedule: { every: '1m', paused: options.paused },
  };
}
