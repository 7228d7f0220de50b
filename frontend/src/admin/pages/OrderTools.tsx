import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useSearchParams } from "react-router-dom";
import { newIdempotencyKey, unwrap } from "../../api/client";
import { parseAmount } from "../../api/money";
import { ErrorMessage, Field, mergeErrors, type FieldErrors } from "../../shared/ui";
import { useShopApi } from "../session";
import type { Order, OrderStatus } from "../types";
import { queryKeys } from "../queryKeys";

const STATUSES: OrderStatus[] = ["pending", "paid", "fulfilled", "cancelled", "refunded"];
export const SEARCH_PARAMS = ["q", "status", "from", "to", "total_min", "total_max"] as const;
type SearchParam = (typeof SEARCH_PARAMS)[number];

/** The order search as the URL holds it (so a search can be bookmarked and shared). */
export function useOrderSearch(): Partial<Record<SearchParam, string>> {
  const [params] = useSearchParams();
  return Object.fromEntries(SEARCH_PARAMS.flatMap((name) => (params.get(name) ? [[name, params.get(name)!]] : [])));
}

/** Find orders by number, e-mail or name, days placed, status and total. */
export function OrderSearchForm() {
  const [params, setParams] = useSearchParams();
  const [draft, setDraft] = useState<Record<SearchParam, string>>(
    Object.fromEntries(SEARCH_PARAMS.map((name) => [name, params.get(name) ?? ""])) as Record<SearchParam, string>,
  );
  const [errors, setErrors] = useState<FieldErrors>({});
  const set = (name: SearchParam) => (e: { target: { value: string } }) => setDraft({ ...draft, [name]: e.target.value });
  return (
    <form
      className="order-search"
      role="search"
      aria-label="Find orders"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        const found: FieldErrors = {};
        for (const name of ["total_min", "total_max"] as const) {
          if (draft[name].trim() && parseAmount(draft[name]) === null) found[name] = ["An amount like 25.00."];
        }
        setErrors(found);
        if (Object.keys(found).length) return;
        const next = new URLSearchParams();
        for (const name of SEARCH_PARAMS) {
          const value = name.startsWith("total_") ? (parseAmount(draft[name]) ?? "") : draft[name].trim();
          if (value) next.set(name, value);
        }
        setParams(next);
      }}
    >
      <div className="form-grid">
        <Field label="Number, e-mail or name" type="search" value={draft.q} onChange={set("q")} />
        <div className="field">
          <label htmlFor="order-status">Status</label>
          <select id="order-status" value={draft.status} onChange={set("status")}>
            <option value="">Any</option>
            {STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </div>
        <Field label="Placed from" type="date" value={draft.from} max={draft.to || undefined} onChange={set("from")} />
        <Field label="Placed to" type="date" value={draft.to} min={draft.from || undefined} onChange={set("to")} />
        <Field label="Total at least" inputMode="decimal" value={draft.total_min} onChange={set("total_min")} errors={errors.total_min} />
        <Field label="Total at most" inputMode="decimal" value={draft.total_max} onChange={set("total_max")} errors={errors.total_max} />
      </div>
      <div className="actions">
        <button type="submit">Search</button>
        <button
          type="button"
          className="secondary"
          onClick={() => {
            setDraft(Object.fromEntries(SEARCH_PARAMS.map((name) => [name, ""])) as Record<SearchParam, string>);
            setParams(new URLSearchParams());
          }}
        >
          Clear
        </button>
      </div>
    </form>
  );
}

/** Fulfil a paid order, with its tracking number, carrier and link (all optional). */
export function FulfilForm({ order, onFulfilled }: { order: Order; onFulfilled: (order: Order) => void }) {
  const { api, slug } = useShopApi();
  const queryClient = useQueryClient();
  const [tracking, setTracking] = useState({ tracking_number: "", carrier: "", tracking_url: "" });
  const [errors, setErrors] = useState<FieldErrors>({});
  const fulfil = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/admin/v1/orders/{number}/fulfill", {
          params: { path: { number: order.number }, header: { "Idempotency-Key": newIdempotencyKey() } },
          body: {
            tracking_number: tracking.tracking_number.trim(),
            carrier: tracking.carrier.trim(),
            tracking_url: tracking.tracking_url.trim(),
          },
        }),
      ),
    onSuccess: (updated) => {
      onFulfilled(updated);
      void queryClient.invalidateQueries({ queryKey: queryKeys.shop(slug).orders() });
    },
  });
  const all = mergeErrors(errors, fulfil.error);
  const set = (name: keyof typeof tracking) => (e: { target: { value: string } }) => setTracking({ ...tracking, [name]: e.target.value });
  return (
    <form
      className="fulfil"
      aria-label="Fulfil the order"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        const url = tracking.tracking_url.trim();
        const found: FieldErrors = url && !/^https?:\/\/\S+$/i.test(url) ? { tracking_url: ["A link starting with https://"] } : {};
        setErrors(found);
        if (!Object.keys(found).length) fulfil.mutate();
      }}
    >
      <div className="form-grid">
        <Field label="Tracking number" value={tracking.tracking_number} onChange={set("tracking_number")} errors={all.tracking_number} />
        <Field label="Carrier" value={tracking.carrier} onChange={set("carrier")} errors={all.carrier} />
        <Field label="Tracking link" type="url" value={tracking.tracking_url} onChange={set("tracking_url")} errors={all.tracking_url} />
      </div>
      <ErrorMessage error={fulfil.error} />
      <button type="submit" disabled={fulfil.isPending}>
        Fulfil
      </button>
    </form>
  );
}

/** How an order shipped, when it did. */
export function TrackingLine({ order }: { order: Order }) {
  if (!order.tracking_number && !order.tracking_url && !order.carrier) return null;
  return (
    <p>
      Shipped{order.carrier && ` with ${order.carrier}`}
      {order.tracking_number && (
        <>
          {" "}
          · tracking <strong>{order.tracking_number}</strong>
        </>
      )}
      {order.tracking_url && (
        <>
          {" "}
          ·{" "}
          <a href={order.tracking_url} target="_blank" rel="noreferrer noopener">
            follow the parcel
          </a>
        </>
      )}
    </p>
  );
}
