import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useSearchParams } from "react-router-dom";
import { newIdempotencyKey, unwrap } from "../../api/client";
import { formatMoney, money, parseAmount } from "../../api/money";
import { ParcelTracking } from "../../shared/ParcelTracking";
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

/** Units of a line still to ship: ordered, less shipped, less refunded into stock (they never ship). */
export function unitsToShip(line: Order["lines"][number]): number {
  return Math.max(0, line.quantity - line.fulfilled_quantity - line.restocked_quantity);
}

/**
 * The parcel the merchant asked for: `units` by line id (text typed, empty = 0),
 * each from 0 to what is left to ship, at least one unit in all. Errors are keyed
 * as the API keys them (`lines.<index>.quantity`), the index among lines still to ship.
 */
export function parcelFromDraft(order: Order, units: Record<number, string>): { lines: { line: number; quantity: number }[]; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const open = order.lines.filter((line) => unitsToShip(line) > 0);
  const lines = open.flatMap((line, index) => {
    const raw = (units[line.id] ?? "").trim();
    const quantity = raw === "" ? 0 : Number(raw);
    if (!/^\d*$/.test(raw) || !Number.isSafeInteger(quantity) || quantity > unitsToShip(line)) {
      errors[`lines.${index}.quantity`] = [`Between 0 and ${unitsToShip(line)}.`];
      return [];
    }
    return quantity ? [{ line: line.id, quantity }] : [];
  });
  if (!lines.length && !Object.keys(errors).length) errors.lines = ["Choose at least one unit to ship."];
  return { lines, errors };
}

/**
 * Ship units of a paid order (a fulfilment): each line's units to ship start at
 * what is left, the merchant lowers them for a partial parcel; with its tracking
 * number, carrier and link (all optional).
 */
export function FulfilForm({ order, onFulfilled }: { order: Order; onFulfilled: (order: Order) => void }) {
  const { api, slug } = useShopApi();
  const queryClient = useQueryClient();
  const open = order.lines.filter((line) => unitsToShip(line) > 0);
  const [units, setUnits] = useState<Record<number, string>>(() => Object.fromEntries(open.map((line) => [line.id, String(unitsToShip(line))])));
  const [tracking, setTracking] = useState({ tracking_number: "", carrier: "", tracking_url: "" });
  const [errors, setErrors] = useState<FieldErrors>({});
  const fulfil = useMutation({
    mutationFn: (lines: { line: number; quantity: number }[]) =>
      unwrap(
        api.POST("/api/admin/v1/orders/{number}/fulfill", {
          params: { path: { number: order.number }, header: { "Idempotency-Key": newIdempotencyKey() } },
          body: {
            lines,
            tracking_number: tracking.tracking_number.trim(),
            carrier: tracking.carrier.trim(),
            tracking_url: tracking.tracking_url.trim(),
          },
        }),
      ),
    onSuccess: (updated) => {
      onFulfilled(updated);
      setUnits(Object.fromEntries(updated.lines.filter((line) => unitsToShip(line) > 0).map((line) => [line.id, String(unitsToShip(line))])));
      setTracking({ tracking_number: "", carrier: "", tracking_url: "" });
      void queryClient.invalidateQueries({ queryKey: queryKeys.shop(slug).orders() });
    },
  });
  const all = mergeErrors(errors, fulfil.error);
  const set = (name: keyof typeof tracking) => (e: { target: { value: string } }) => setTracking({ ...tracking, [name]: e.target.value });
  return (
    <form
      className="fulfil stack"
      aria-label="Fulfil the order"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        const { lines, errors: found } = parcelFromDraft(order, units);
        const url = tracking.tracking_url.trim();
        if (url && !/^https?:\/\/\S+$/i.test(url)) found.tracking_url = ["A link starting with https://"];
        setErrors(found);
        if (!Object.keys(found).length) fulfil.mutate(lines);
      }}
    >
      <h2>Ship</h2>
      <div className="form-grid">
        {open.map((line, index) => (
          <Field
            key={line.id}
            label={`${line.sku}: units to ship (of ${unitsToShip(line)})`}
            inputMode="numeric"
            value={units[line.id] ?? ""}
            onChange={(e) => setUnits({ ...units, [line.id]: e.target.value })}
            errors={all[`lines.${index}.quantity`]}
          />
        ))}
      </div>
      <div className="form-grid">
        <Field label="Tracking number" value={tracking.tracking_number} onChange={set("tracking_number")} errors={all.tracking_number} />
        <Field label="Carrier" value={tracking.carrier} onChange={set("carrier")} errors={all.carrier} />
        <Field label="Tracking link" type="url" value={tracking.tracking_url} onChange={set("tracking_url")} errors={all.tracking_url} />
      </div>
      {all.lines && <p className="error" role="alert">{all.lines.join(" ")}</p>}
      <ErrorMessage error={fulfil.error} />
      <button type="submit" disabled={fulfil.isPending}>
        Fulfil
      </button>
    </form>
  );
}

/** The parcels shipped so far: their units and tracking. */
export function FulfilmentList({ order }: { order: Order }) {
  if (!order.fulfillments.length) return null;
  const byId = new Map(order.lines.map((line) => [line.id, line]));
  return (
    <>
      <h2>Fulfilments</h2>
      <ol className="fulfilments" aria-label="Fulfilments">
        {order.fulfillments.map((parcel) => (
          <li key={parcel.id}>
            <time dateTime={parcel.created_at}>{new Date(parcel.created_at).toLocaleString()}</time>:{" "}
            {parcel.lines.map((item) => `${item.quantity} × ${byId.get(item.line)?.sku ?? `line ${item.line}`}`).join(", ")}
            <ParcelTracking parcel={parcel} />
          </li>
        ))}
      </ol>
    </>
  );
}

/** The amount to capture as typed: empty for all of it, else more than 0 and at most `authorized`. */
export function captureFromDraft(draft: string, authorized: string): { amount?: string; errors: FieldErrors } {
  if (!draft.trim()) return { errors: {} };
  const amount = parseAmount(draft);
  if (amount === null || Number(amount) <= 0) return { errors: { amount: ["An amount like 12.50."] } };
  if (Number(amount) > Number(authorized)) return { errors: { amount: [`At most ${authorized}.`] } };
  return { amount, errors: {} };
}

/** Capture (all or part) or void the card authorization of an order the shop captures by hand. */
export function AuthorizationActions({ order, onDone }: { order: Order; onDone: (order: Order, message: string) => void }) {
  const { api } = useShopApi();
  const authorized = order.payments.find((p) => p.kind === "charge" && p.status === "authorized");
  const [amount, setAmount] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const act = useMutation({
    mutationFn: ({ action, amount }: { action: "capture" | "void"; amount?: string }) => {
      const params = { path: { number: order.number }, header: { "Idempotency-Key": newIdempotencyKey() } };
      return action === "capture"
        ? unwrap(api.POST("/api/admin/v1/orders/{number}/capture", { params, body: amount ? { amount } : {} }))
        : unwrap(api.POST("/api/admin/v1/orders/{number}/void", { params }));
    },
    onSuccess: (next, { action }) => onDone(next, action === "capture" ? "Payment captured." : "Authorization voided; the order is cancelled."),
  });
  if (!authorized) return null;
  const limit = money(authorized.amount);
  const all = mergeErrors(errors, act.error);
  return (
    <form
      className="stack"
      aria-labelledby="authorization-heading"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        const { amount: asked, errors: found } = captureFromDraft(amount, limit?.amount ?? "0");
        setErrors(found);
        if (!Object.keys(found).length) act.mutate({ action: "capture", amount: asked });
      }}
    >
      <h2 id="authorization-heading">Card authorized</h2>
      <p className="muted">
        {formatMoney(limit)} is authorized on the shopper's card. Capture it (all of it, or less: the rest is released), or void the authorization to cancel the order.
      </p>
      <Field label={`Amount to capture (${order.currency})`} inputMode="decimal" placeholder={limit?.amount} value={amount} onChange={(e) => setAmount(e.target.value)} errors={all.amount} />
      <div className="actions">
        <button type="submit" disabled={act.isPending}>
          Capture
        </button>
        <button
          type="button"
          className="danger"
          disabled={act.isPending}
          onClick={() => window.confirm("Void the authorization? Nothing is taken and the order is cancelled.") && act.mutate({ action: "void" })}
        >
          Void
        </button>
      </div>
      <ErrorMessage error={act.error} />
    </form>
  );
}
