import { useMemo } from 'react';

import { PostgresRows, type PostgresRowsOptions, type PostgresRowsSnapshot } from '../postgres_rows.js';
import { useRealtimeClient } from './context.js';
import { useLatest } from './use_latest.js';
import { useStore } from './use_store.js';

export type UsePostgresChangesOptions<Row extends object> = PostgresRowsOptions<Row>;
export type PostgresChangesRows<Row extends object> = PostgresRowsSnapshot<Row>;

/**
 * A table's rows, kept current: the rows `fetch` returns (the app's own endpoint: tidewire does not read the
 * database for the app) plus every change since, with no gap between the two (subscribed first; changes that
 * arrive while `fetch` runs are applied to its result). INSERT adds a row, UPDATE replaces the row with the same
 * `key` (default `'id'`), DELETE removes it. `filter` is applied in the client (the subscription takes the
 * table's changes, within the server's access rules), so a row updated out of the filter leaves the list, and
 * deletes remove rows whatever the table's replica identity. The latest `fetch` is always the one called.
 *
 * ```tsx
 * const { rows, loading, error } = usePostgresChanges<Todo>({
 *   table: 'todos', filter: `owner=eq.${userId}`, fetch: () => fetch('/api/todos').then((r) => r.json()),
 * });
 * ```
 */
export function usePostgresChanges<Row extends object>(options: UsePostgresChangesOptions<Row>): PostgresChangesRows<Row> {
  const client = useRealtimeClient();
  const latest = useLatest(options);
  const { schema, table, event, filter, key } = options;
  // Created during render without side effects (it validates the options); online while rendered.
  const store = useMemo(
    () => new PostgresRows<Row>(client, { schema, table, event, filter, key, fetch: () => latest.current.fetch() }),
    [client, schema, table, event, filter, key, latest],
  );
  return useStore(store);
}
