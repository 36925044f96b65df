// Database changes in the seeds' shape: `channel.on('postgres_changes', {event, schema, table, filter}, cb)`.
// A table's changes arrive on the channel `db:<schema>.<table>` (wire.ts PostgresChanges) with the payload below.
// The server applies a subscription's `changes` (event and filter) for its subscriber; since a connection holds
// one subscription per channel, bindings on one table that differ subscribe with their union (see changesUnion)
// and each binding's own event and filter are applied here, in the same filter language, before its callback.
import { PostgresChanges } from './wire.js';

/** The kind of a change. */
export type PostgresChangeEvent = 'INSERT' | 'UPDATE' | 'DELETE';
/** The changes a binding wants: one kind, or `'*'` for all. */
export type PostgresChangesEvent = PostgresChangeEvent | '*';

/** What `on('postgres_changes', filter, cb)` listens to. */
export interface PostgresChangesFilter<E extends PostgresChangesEvent = PostgresChangesEvent> {
  event: E;
  /** Default `'public'`. */
  schema?: string;
  table: string;
  /**
   * Only rows whose column matches: `column=op.value` with op `eq`, `neq`, `lt`, `lte`, `gt`, `gte`, or
   * `in.(a,b,c)` (quote a value holding a comma: `in.("a,b",c)`); e.g. `'id=eq.42'`, `'status=in.(open,closed)'`.
   * A row whose column is null or absent never matches. A DELETE is matched on `old`, which holds only the primary
   * key unless the table has REPLICA IDENTITY FULL: a filter on another column then matches no delete.
   */
  filter?: string;
}

interface PayloadBase {
  schema: string;
  table: string;
  /** The commit's time (ISO 8601). */
  commit_timestamp: string;
  /** Problems the server had with this change (e.g. a row too large to send whole), else null. */
  errors: string[] | null;
}
/** A row inserted: `new` is the row, `old` is `{}`. */
export interface PostgresInsertPayload<Row extends object> extends PayloadBase {
  eventType: 'INSERT';
  new: Row;
  old: Record<string, never>;
}
/** A row updated: `new` is the row, `old` its previous values as far as the table's replica identity tells. */
export interface PostgresUpdatePayload<Row extends object> extends PayloadBase {
  eventType: 'UPDATE';
  new: Row;
  old: Partial<Row>;
}
/** A row deleted: `old` holds its primary key (the whole row with REPLICA IDENTITY FULL), `new` is `{}`. */
export interface PostgresDeletePayload<Row extends object> extends PayloadBase {
  eventType: 'DELETE';
  new: Record<string, never>;
  old: Partial<Row>;
}
/** A change as the seeds' handlers receive it (Supabase's payload); narrowed by `E` or by checking `eventType`. */
export type PostgresChangesPayload<Row extends object = Record<string, unknown>, E extends PostgresChangesEvent = '*'> =
  E extends 'INSERT'
    ? PostgresInsertPayload<Row>
    : E extends 'UPDATE'
      ? PostgresUpdatePayload<Row>
      : E extends 'DELETE'
        ? PostgresDeletePayload<Row>
        : PostgresInsertPayload<Row> | PostgresUpdatePayload<Row> | PostgresDeletePayload<Row>;

/** The `changes` of a subscribe (event '' = none). @internal */
export interface ChangesSpec {
  event: string;
  filter: string;
}

type Operator = (typeof PostgresChanges.operators)[number];
interface ParsedFilter {
  column: string;
  op: Operator;
  values: string[];
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const FILTER = /^([A-Za-z_][A-Za-z0-9_]*)=([a-z]+)\.([^]*)$/;

function fail(what: string): never {
  throw new TypeError(`tidewire: on('postgres_changes', filter, callback): ${what}`);
}

/** Parses `column=op.value`; throws a TypeError that says what is wrong. */
function parseFilter(filter: string): ParsedFilter {
  const m = FILTER.exec(filter);
  if (m === null) fail(`filter must look like 'column=op.value' (e.g. 'id=eq.42'), got ${JSON.stringify(filter)}`);
  const [, column, op, value] = m as unknown as [string, string, Operator, string];
  if (!PostgresChanges.operators.includes(op)) {
    fail(`unknown filter operator '${op}' in ${JSON.stringify(filter)}; use one of ${PostgresChanges.operators.join(', ')}`);
  }
  if (op !== 'in') {
    if (value === '') fail(`filter ${JSON.stringify(filter)} has no value after '${op}.'`);
    return { column, op, values: [value] };
  }
  const list = /^\((.+)\)$/.exec(value);
  // Items are separated by commas; "a,b" (quoted) keeps its comma, as the server reads it.
  const values = list === null ? [] : [...list[1]!.matchAll(/"([^"]*)"(?:,|$)|([^,"]+)(?:,|$)|(.)/g)].map((m) => m[3] === undefined ? m[1] ?? m[2]! : '');
  if (values.length === 0 || values.includes('')) {
    fail(`'in' takes a list in parentheses such as 'status=in.(open,closed)', got ${JSON.stringify(filter)}`);
  }
  return { column, op, values };
}

// -1, 0, 1 as the server compares (numbers as numbers, everything else as its text, JSON for non-strings);
// undefined for null or absent (matches nothing, as in SQL).
function compare(a: unknown, b: string): number | undefined {
  if (a === null || a === undefined) return undefined;
  if (typeof a === 'number' && b.trim() !== '' && !Number.isNaN(Number(b))) return Math.sign(a - Number(b));
  const s = typeof a === 'string' ? a : JSON.stringify(a);
  return s < b ? -1 : s > b ? 1 : 0;
}

function rowMatches(f: ParsedFilter, payload: PostgresChangesPayload): boolean {
  const row = (payload.eventType === 'DELETE' ? payload.old : payload.new) as Record<string, unknown>;
  const c = compare(row[f.column], f.values[0]!);
  if (c === undefined) return false;
  switch (f.op) {
    case 'eq': return c === 0;
    case 'neq': return c !== 0;
    case 'lt': return c < 0;
    case 'lte': return c <= 0;
    case 'gt': return c > 0;
    case 'gte': return c >= 0;
    case 'in': return f.values.some((v) => compare(row[f.column], v) === 0);
  }
}

/** A validated binding: its channel, its `changes`, and whether a payload is for it. @internal */
export interface PostgresBinding {
  channel: string;
  changes: ChangesSpec;
  matches(payload: unknown): payload is PostgresChangesPayload;
}

/** Validates what on('postgres_changes', filter, cb) was given; throws a TypeError that says what is wrong. @internal */
export function postgresBinding(spec: unknown): PostgresBinding {
  if (spec === null || typeof spec !== 'object') fail('filter must be an object such as { event: "*", schema: "public", table: "todos" }');
  const { event, schema = PostgresChanges.defaultSchema, table, filter } = spec as Partial<Record<keyof PostgresChangesFilter, unknown>>;
  if (!PostgresChanges.events.includes(event as PostgresChangesEvent)) {
    fail(`event must be one of ${PostgresChanges.events.map((e) => `'${e}'`).join(', ')}, got ${JSON.stringify(event)}`);
  }
  if (typeof schema !== 'string' || !IDENTIFIER.test(schema)) fail(`schema must be a plain identifier such as 'public', got ${JSON.stringify(schema)}`);
  if (typeof table !== 'string' || !IDENTIFIER.test(table)) fail(`table must be a plain identifier such as 'todos', got ${JSON.stringify(table)}`);
  if (filter !== undefined && typeof filter !== 'string') fail(`filter must be a string such as 'id=eq.42', got ${JSON.stringify(filter)}`);
  const parsed = filter === undefined || filter === '' ? undefined : parseFilter(filter);
  return {
    channel: `${PostgresChanges.channelPrefix}${schema}.${table}`,
    changes: { event: event as string, filter: filter ?? '' },
    matches: (p: unknown): p is PostgresChangesPayload =>
      p !== null &&
      typeof p === 'object' &&
      (event === '*' || (p as PostgresChangesPayload).eventType === event) &&
      (parsed === undefined || rowMatches(parsed, p as PostgresChangesPayload)),
  };
}

/**
 * What one subscription asks for on behalf of several bindings: theirs when they agree, else the union (every
 * event, no filter), each binding filtering locally. None ('' event) without bindings. @internal
 */
export function changesUnion(specs: Iterable<ChangesSpec>): ChangesSpec {
  let union: ChangesSpec | undefined;
  for (const s of specs) {
    if (union === undefined) union = { ...s };
    else {
      if (union.event !== s.event) union.event = '*';
      if (union.filter !== s.filter) union.filter = '';
    }
  }
  return union ?? { event: '', filter: '' };
}
