import { useId, useMemo, useState, type ReactNode } from "react";
import type { MorePages } from "./LoadMore";

export type RowId = string | number;

export interface Column<T> {
  id: string;
  header: string;
  cell: (row: T) => ReactNode;
  /** Makes the column sortable (by the rows loaded so far). */
  sortValue?: (row: T) => string | number;
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
}

type Sort = { column: string; direction: "ascending" | "descending" } | null;

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
}: DataTableProps<T>) {
  const [sort, setSort] = useState<Sort>(null);
  const [page, setPage] = useState(0);
  const [selected, setSelected] = useState<RowId[]>([]);
  const statusId = useId();

  const sorted = useMemo(() => {
    const column = columns.find((c) => c.id === sort?.column);
    if (!sort || !column?.sortValue) return rows;
    const value = column.sortValue;
    const factor = sort.direction === "ascending" ? 1 : -1;
    return [...rows].sort((a, b) => factor * compare(value(a), value(b)));
  }, [rows, columns, sort]);

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

  const toggleSort = (column: Column<T>) =>
    setSort((now) =>
      now?.column === column.id
        ? { column: column.id, direction: now.direction === "ascending" ? "descending" : "ascending" }
        : { column: column.id, direction: "ascending" },
    );

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
                  {column.sortValue ? (
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
