import { useState } from "react";
import { unwrap } from "../../api/client";
import { Empty, ErrorMessage, Loading } from "../../shared/ui";
import { useCursorList, useShopApi } from "../session";
import { queryKeys } from "../queryKeys";
import { LoadMore } from "../ui/LoadMore";

interface Filters {
  actor: string;
  action: string;
  from: string;
  to: string;
}

const NO_FILTERS: Filters = { actor: "", action: "", from: "", to: "" };

/** A change as one line: the fields that differ between before and after. */
export function changeSummary(before: unknown, after: unknown): string {
  const b = (before && typeof before === "object" ? before : {}) as Record<string, unknown>;
  const a = (after && typeof after === "object" ? after : {}) as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])].filter((k) => JSON.stringify(b[k]) !== JSON.stringify(a[k]));
  const text = (value: unknown) => (value === undefined || value === null ? "—" : typeof value === "string" ? value : JSON.stringify(value));
  return keys.map((k) => (k in b && k in a ? `${k}: ${text(b[k])} → ${text(a[k])}` : `${k}: ${text(k in a ? a[k] : b[k])}`)).join("; ");
}

/** The shop's audit log: who changed what, when, filtered by actor, action and days. */
export function AuditLogPage() {
  const { api, slug } = useShopApi();
  const [draft, setDraft] = useState<Filters>(NO_FILTERS);
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const entries = useCursorList(queryKeys.shop(slug).auditLog(filters), (cursor) =>
    unwrap(
      api.GET("/api/admin/v1/audit-log", {
        params: {
          query: {
            cursor,
            actor: filters.actor || undefined,
            action: filters.action || undefined,
            from: filters.from || undefined,
            to: filters.to || undefined,
          },
        },
      }),
    ),
  );
  const set = (name: keyof Filters) => (e: { target: { value: string } }) => setDraft({ ...draft, [name]: e.target.value });
  return (
    <>
      <h1>Audit log</h1>
      <form
        role="search"
        aria-label="Filter the audit log"
        className="actions"
        onSubmit={(event) => {
          event.preventDefault();
          setFilters({ actor: draft.actor.trim(), action: draft.action.trim(), from: draft.from, to: draft.to });
        }}
      >
        <label htmlFor="audit-actor">Who</label>
        <input id="audit-actor" type="search" placeholder="e-mail or key name" value={draft.actor} onChange={set("actor")} />
        <label htmlFor="audit-action">Action</label>
        <input id="audit-action" type="search" placeholder="product. or order.paid" value={draft.action} onChange={set("action")} />
        <label htmlFor="audit-from">From</label>
        <input id="audit-from" type="date" value={draft.from} max={draft.to || undefined} onChange={set("from")} />
        <label htmlFor="audit-to">To</label>
        <input id="audit-to" type="date" value={draft.to} min={draft.from || undefined} onChange={set("to")} />
        <button type="submit">Filter</button>
        <button
          type="button"
          className="secondary"
          onClick={() => {
            setDraft(NO_FILTERS);
            setFilters(NO_FILTERS);
          }}
        >
          Clear
        </button>
      </form>
      {entries.isPending && <Loading />}
      <ErrorMessage error={entries.error} onRetry={() => entries.refetch()} />
      {entries.isSuccess && entries.items.length === 0 && <Empty>No changes match.</Empty>}
      {entries.items.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Action</th>
                <th scope="col">What</th>
                <th scope="col">Change</th>
              </tr>
            </thead>
            <tbody>
              {entries.items.map((entry) => (
                <tr key={entry.id}>
                  <td>{new Date(entry.created_at).toLocaleString()}</td>
                  <td>{entry.actor}</td>
                  <td>
                    <code>{entry.action}</code>
                  </td>
                  <td>
                    {entry.object_type}
                    {entry.object_id != null && ` ${entry.object_id}`}
                  </td>
                  <td>{changeSummary(entry.before, entry.after)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <LoadMore list={entries} />
    </>
  );
}
