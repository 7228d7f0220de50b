import { useId, useMemo, useState, type ReactNode } from "react";
import { useSearchParams } from "react-router-dom";
import type { MorePages } from "./LoadMore";

export type RowId = string | number;

export interface Column<T> {
  id: string;
  header: string;
  cell: (row: T) => ReactNode;
  /** Makes the column sortable (by the rows loaded so far). */
  sortValue?: (row: T) => string | number;
  /** The API's `ordering` name for this column: with `onSortChange`, the server sorts by it instead. */
  ordering?: string;
  numeric?: boolean;
}

export interface DataTableProps<T> {
  /** The table's accessible name (a visually hidden caption). */
  caption: string;
  rows: T[];
  columns: Column<T>[];
  rowId: (row: T) => RowId;
  /** Checkboxes per row and for the page; the selected ids go to `onSelectionChange` and `bulkActions`. */
  selectable?: boolean;
  onSelectionChange?: (ids: RowId[]) => void;
  /** Buttons that act on the selected rows, shown while any is selected; `clear` empties the selection. */
  bulkActions?: (ids: RowId[], clear: () => void) => ReactNode;
  /** The API's further pages (cursor lists): "Next" fetches one when the loaded rows run out. */
  more?: MorePages;
  pageSize?: number;
  /** A label for a row's checkbox, e.g. its title. */
  rowLabel?: (row: T) => string;
  /**
   * Sorting by the server (the whole list, not the rows loaded so far): the rows
   * come sorted by `sort`; a click on a header with an `ordering` hands the new
   * sort here, and the list is asked for again (useServerSort).
   */
  sort?: Sort;
  onSortChange?: (sort: Sort) => void;
}

export type Sort = { column: string; direction: "ascending" | "descending" } | null;

/** The API's `ordering` for a sort of these columns (`-price` for price, descending); undefined for its default. */
export function orderingOf<T>(sort: Sort, columns: Column<T>[]): string | undefined {
  const name = columns.find((c) => c.id === sort?.column)?.ordering;
  if (!sort || !name) return undefined;
  return sort.direction === "descending" ? `-${name}` : name;
}

/** The sort an `ordering` value stands for (null for one no column offers). */
export function sortOf<T>(ordering: string | null, columns: Column<T>[]): Sort {
  if (!ordering) return null;
  const name = ordering.replace(/^-/, "");
  const column = columns.find((c) => c.ordering === name);
  return column ? { column: column.id, direction: ordering.startsWith("-") ? "descending" : "ascending" } : null;
}

/**
 * A server-sorted table's sort, kept in the page's `?ordering=` (so a reload or a
 * shared link keeps it): the value to send, and the props for DataTable. A new
 * sort starts the list again from its first page, in that order; "Next" then
 * fetches the following pages of the same ordering.
 */
export function useServerSort<T>(columns: Column<T>[]) {
  const [params, setParams] = useSearchParams();
  const sort = sortOf(params.get("ordering"), columns);
  const onSortChange = (next: Sort) => {
    const changed = new URLSearchParams(params);
    const ordering = orderingOf(next, columns);
    if (ordering) changed.set("ordering", ordering);
    else changed.delete("ordering");
    setParams(changed, { replace: true });
  };
  return { ordering: orderingOf(sort, columns), sort, onSortChange };
}

function compare(a: string | number, b: string | number): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true, sensitivity: "base" });
}

/**
 * The admin's one table: sortable headers, page controls over a cursor list,
 * row selection with bulk actions, and cells that stack as labelled cards on
 * a phone (styles in admin.css), so no column is cut off.
 */
export function DataTable<T>({
  caption,
  rows,
  columns,
  rowId,
  selectable = false,
  onSelectionChange,
  bulkActions,
  more,
  pageSize = 20,
  rowLabel,
  sort: serverSort,
  onSortChange,
}: DataTableProps<T>) {
  const byServer = onSortChange !== undefined;
  const [localSort, setLocalSort] = useState<Sort>(null);
  const sort = byServer ? (serverSort ?? null) : localSort;
  const sortable = (column: Column<T>) => (byServer ? Boolean(column.ordering) : Boolean(column.sortValue));
  const [page, setPage] = useState(0);
  const [selected, setSelected] = useState<RowId[]>([]);
  const statusId = useId();

  const sorted = useMemo(() => {
    const column = columns.find((c) => c.id === sort?.column);
    if (byServer || !sort || !column?.sortValue) return rows; // the server's order is the order
    const value = column.sortValue;
    const factor = sort.direction === "ascending" ? 1 : -1;
    return [...rows].sort((a, b) => factor * compare(value(a), value(b)));
  }, [rows, columns, sort, byServer]);

  const pages = Math.max(1, Math.ceil(sorted.length / pageSize));
  const current = Math.min(page, pages - 1);
  const shown = sorted.slice(current * pageSize, (current + 1) * pageSize);
  const ids = new Set(rows.map(rowId));

  // Selected rows that left the list (deleted, or filtered out) no longer count.
  const kept = selected.filter((id) => ids.has(id));

  const select = (next: RowId[]) => {
    setSelected(next);
    onSelectionChange?.(next);
  };
  const pageIds = shown.map(rowId);
  const allOnPage = pageIds.length > 0 && pageIds.every((id) => kept.includes(id));
  const someOnPage = pageIds.some((id) => kept.includes(id));

  const toggleSort = (column: Column<T>) => {
    const next: Sort =
      sort?.column === column.id
        ? { column: column.id, direction: sort.direction === "ascending" ? "descending" : "ascending" }
        : { column: column.id, direction: "ascending" };
    if (byServer) {
      setPage(0); // a new order is a new list: its first page
      onSortChange(next);
    } else setLocalSort(next);
  };

  const hasLaterPage = current < pages - 1 || Boolean(more?.hasNextPage);
  const next = async () => {
    if (current < pages - 1) setPage(current + 1);
    else if (more?.hasNextPage) {
      await more.fetchNextPage();
      setPage(current + 1);
    }
  };
  const first = sorted.length ? current * pageSize + 1 : 0;
  const last = Math.min(sorted.length, (current + 1) * pageSize);

  return (
    <div className="data-table">
      {selectable && kept.length > 0 && (
        <div className="bulk-bar" role="region" aria-label="Selected rows">
          <span>{kept.length} selected</span>
          {bulkActions?.(kept, () => select([]))}
          <button type="button" className="secondary" onClick={() => select([])}>
            Clear selection
          </button>
        </div>
      )}
      <div className="table-wrap">
        <table aria-describedby={statusId}>
          <caption className="visually-hidden">{caption}</caption>
          <thead>
            <tr>
              {selectable && (
                <th scope="col" className="select">
                  <input
                    type="checkbox"
                    aria-label="Select all on this page"
                    checked={allOnPage}
                    ref={(box) => {
                      if (box) box.indeterminate = someOnPage && !allOnPage;
                    }}
                    onChange={(e) =>
                      select(e.target.checked ? [...new Set([...kept, ...pageIds])] : kept.filter((id) => !pageIds.includes(id)))
                    }
                  />
                </th>
              )}
              {columns.map((column) => (
                <th
                  key={column.id}
                  scope="col"
                  className={column.numeric ? "num" : undefined}
                  aria-sort={sort?.column === column.id ? sort.direction : undefined}
                >
                  {sortable(column) ? (
                    <button type="button" className="sort" onClick={() => toggleSort(column)}>
                      {column.header}
                      <span aria-hidden="true" className="sort-mark">
                        {sort?.column === column.id ? (sort.direction === "ascending" ? "▲" : "▼") : "↕"}
                      </span>
                    </button>
                  ) : (
                    column.header
                  )}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {shown.map((row) => {
              const id = rowId(row);
              const checked = kept.includes(id);
              return (
                <tr key={id} className={checked ? "selected" : undefined}>
                  {selectable && (
                    <td className="select">
                      <input
                        type="checkbox"
                        aria-label={`Select ${rowLabel ? rowLabel(row) : id}`}
                        checked={checked}
                        onChange={(e) => select(e.target.checked ? [...kept, id] : kept.filter((x) => x !== id))}
                      />
                    </td>
                  )}
                  {columns.map((column) => (
                    <td key={column.id} className={column.numeric ? "num" : undefined} data-label={column.header}>
                      {column.cell(row)}
                    </td>
                  ))}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <nav className="pager" aria-label={`${caption} pages`}>
        <span id={statusId} className="muted">
          {first}–{last} of {sorted.length}
          {more?.hasNextPage ? "+" : ""}
        </span>
        <button type="button" className="secondary" onClick={() => setPage(current - 1)} disabled={current === 0}>
          Previous
        </button>
        <button type="button" className="secondary" onClick={() => void next()} disabled={!hasLaterPage || more?.isFetchingNextPage}>
          {more?.isFetchingNextPage ? "Loading…" : "Next"}
        </button>
      </nav>
    </div>
  );
}

/** A small square image for a table row, or a neutral placeholder. */
export function Thumb({ src, alt }: { src: string | null | undefined; alt: string }) {
  return src ? <img className="thumb" src={src} alt={alt} width={40} height={40} loading="lazy" /> : <span className="thumb thumb-empty" aria-hidden="true" />;
}
