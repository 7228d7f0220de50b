import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Totals } from "../../shared/Totals";
import { useState, type FormEvent } from "react";
import { Link, useParams } from "react-router-dom";
import { newIdempotencyKey, unwrap } from "../../api/client";
import { formatMoney, money, parseAmount } from "../../api/money";
import { Empty, ErrorMessage, Field, Loading } from "../../shared/ui";
import { CsvExport } from "../bulk/CsvExport";
import { queryKeys } from "../queryKeys";
import { useCursorList, useShopApi } from "../session";
import { DataTable, useServerSort, type Column } from "../ui/DataTable";
import type { paths } from "../../api/generated/shop";
import { useToast } from "../ui/toast";
import type { Order, OrderStatus } from "../types";
import { AuthorizationActions, FulfilForm, FulfilmentList, OrderSearchForm, useOrderSearch } from "./OrderTools";

/** The table's columns; those with an `ordering` are sorted by the API (every order, not just those loaded). */
const ORDER_COLUMNS: Column<Order>[] = [
  { id: "number", header: "Order", ordering: "number", cell: (o) => <Link to={String(o.number)}>#{o.number}</Link> },
  { id: "placed", header: "Placed", ordering: "created_at", cell: (o) => new Date(o.placed_at).toLocaleString() },
  { id: "customer", header: "Customer", cell: (o) => o.email },
  { id: "status", header: "Status", ordering: "status", cell: (o) => <span className="badge">{o.status}</span> },
  { id: "total", header: "Total", numeric: true, ordering: "total", cell: (o) => formatMoney(money(o.total)) },
];

type OrderOrdering = NonNullable<NonNullable<paths["/api/admin/v1/orders"]["get"]["parameters"]["query"]>["ordering"]>;

/** Fulfil the selected orders that are paid (the others are left as they are). */
function BulkFulfil({ orders, done }: { orders: Order[]; done: () => void }) {
  const { api, slug } = useShopApi();
  const queryClient = useQueryClient();
  const toast = useToast();
  const paid = orders.filter((o) => o.status === "paid");
  const fulfil = useMutation({
    mutationFn: async () => {
      const results = await Promise.allSettled(
        paid.map((o) =>
          unwrap(
            api.POST("/api/admin/v1/orders/{number}/fulfill", {
              params: { path: { number: o.number }, header: { "Idempotency-Key": newIdempotencyKey() } },
            }),
          ),
        ),
      );
      return results.filter((r) => r.status === "rejected").length;
    },
    onSuccess: (failed) => {
      const fulfilled = paid.length - failed;
      if (fulfilled) toast.success(`${fulfilled} order${fulfilled === 1 ? "" : "s"} fulfilled.`);
      if (failed) toast.error(`${failed} order${failed === 1 ? "" : "s"} could not be fulfilled. Reload to see where they stand.`);
      void queryClient.invalidateQueries({ queryKey: queryKeys.shop(slug).orders() });
      done();
    },
  });
  return (
    <button type="button" onClick={() => fulfil.mutate()} disabled={!paid.length || fulfil.isPending}>
      Fulfil {paid.length} paid
    </button>
  );
}

export function OrdersPage() {
  const { api, slug } = useShopApi();
  const search = useOrderSearch();
  const sorting = useServerSort(ORDER_COLUMNS);
  const ordering = sorting.ordering as OrderOrdering | undefined;
  const list = useCursorList(queryKeys.shop(slug).orders(search, ordering), (cursor) =>
    unwrap(
      api.GET("/api/admin/v1/orders", {
        params: { query: { ...search, status: search.status as OrderStatus | undefined, ordering, cursor } },
      }),
    ),
  );
  return (
    <>
      <h1>Orders</h1>
      <OrderSearchForm />
      <CsvExport kind="orders" />
      {list.isPending && <Loading />}
      <ErrorMessage error={list.error} onRetry={() => list.refetch()} />
      {list.isSuccess && list.items.length === 0 && <Empty>No orders match.</Empty>}
      {list.items.length > 0 && (
        <DataTable
          caption="Orders"
          rows={list.items}
          columns={ORDER_COLUMNS}
          rowId={(order) => order.number}
          rowLabel={(order) => `order #${order.number}`}
          selectable
          bulkActions={(ids, clear) => <BulkFulfil orders={list.items.filter((o) => ids.includes(o.number))} done={clear} />}
          more={list}
          sort={sorting.sort}
          onSortChange={sorting.onSortChange}
        />
      )}
    </>
  );
}

type Action = "mark-paid" | "cancel";

type RefundDraft = { quantities: Record<number, string>; restock: Record<number, boolean>; shipping: string; amount: string; reason: string };
const EMPTY_REFUND: RefundDraft = { quantities: {}, restock: {}, shipping: "", amount: "", reason: "" };

export function OrderDetailPage() {
  const { api, slug } = useShopApi();
  const { number = "" } = useParams();
  const queryClient = useQueryClient();
  const toast = useToast();
  const keys = queryKeys.shop(slug);
  const key = keys.order(number);
  const path = { number: Number(number) };
  const order = useQuery({
    queryKey: key,
    queryFn: () => unwrap(api.GET("/api/admin/v1/orders/{number}", { params: { path } })),
  });
  const timeline = useCursorList(keys.orderEvents(number), (cursor) =>
    unwrap(api.GET("/api/admin/v1/orders/{number}/events", { params: { path, query: { cursor } } })),
  );
  const [draft, setDraft] = useState<RefundDraft>(EMPTY_REFUND);
  const [refundError, setRefundError] = useState<string[]>([]);
  const [note, setNote] = useState("");
  const updated = (next: Order) => {
    queryClient.setQueryData(key, next);
    void queryClient.invalidateQueries({ queryKey: keys.orders() });
    void queryClient.invalidateQueries({ queryKey: keys.orderEvents(number) });
  };
  const act = useMutation({
    mutationFn: ({ action }: { action: Action }) => {
      const params = { path, header: { "Idempotency-Key": newIdempotencyKey() } };
      switch (action) {
        case "mark-paid":
          return unwrap(api.POST("/api/admin/v1/orders/{number}/mark-paid", { params, body: {} }));
        case "cancel":
          return unwrap(api.POST("/api/admin/v1/orders/{number}/cancel", { params, body: {} }));
      }
    },
    onSuccess: (next: Order) => {
      toast.success(`Order updated: ${next.status}.`);
      updated(next);
    },
  });
  const refund = useMutation({
    mutationFn: (body: RefundBody) =>
      unwrap(api.POST("/api/admin/v1/orders/{number}/refund", { params: { path, header: { "Idempotency-Key": newIdempotencyKey() } }, body })),
    onSuccess: (next: Order) => {
      toast.success("Refund recorded.");
      updated(next);
      setDraft(EMPTY_REFUND);
    },
  });
  const addNote = useMutation({
    mutationFn: (body: string) =>
      unwrap(api.POST("/api/admin/v1/orders/{number}/notes", { params: { path, header: { "Idempotency-Key": newIdempotencyKey() } }, body: { body } })),
    onSuccess: () => {
      setNote("");
      toast.success("Note added.");
      void queryClient.invalidateQueries({ queryKey: keys.orderEvents(number) });
    },
  });
  if (order.isPending) return <Loading />;
  if (order.isError) return <ErrorMessage error={order.error} onRetry={() => order.refetch()} />;
  const o = order.data;
  const cardInProgress = o.payments.some((p) => p.kind === "charge" && ["pending", "requires_action", "authorized"].includes(p.status));
  const can = {
    markPaid: o.status === "pending" && o.payment_provider === "manual",
    fulfill: o.status === "paid",
    cancel: (o.status === "pending" && !cardInProgress) || o.status === "paid",
    refund: (o.status === "paid" || o.status === "fulfilled") && (o.payment_status === "paid" || o.payment_status === "partially_refunded"),
  };
  const left = Number(money(o.total)?.amount ?? 0) - Number(money(o.refunded_amount)?.amount ?? 0);
  const submitRefund = (event: FormEvent) => {
    event.preventDefault();
    const errors: string[] = [];
    const lines = o.lines.flatMap((line) => {
      const raw = (draft.quantities[line.id] ?? "").trim();
      if (!raw) return [];
      const quantity = Number(raw);
      if (!Number.isInteger(quantity) || quantity < 1 || quantity > line.quantity - line.refunded_quantity) {
        errors.push(`${line.sku}: between 1 and ${line.quantity - line.refunded_quantity}.`);
        return [];
      }
      return [{ line: line.id, quantity, restock: draft.restock[line.id] ?? false }];
    });
    const shipping = draft.shipping.trim() ? parseAmount(draft.shipping) : undefined;
    const amount = draft.amount.trim() ? parseAmount(draft.amount) : undefined;
    if (draft.shipping.trim() && !shipping) errors.push("Shipping: an amount like 4.90.");
    if (draft.amount.trim() && !amount) errors.push("Amount: an amount like 5.00.");
    if (amount && (lines.length || shipping)) errors.push("Refund either lines and shipping, or a plain amount.");
    if (!amount && !lines.length && !shipping) errors.push("Choose units to refund, a shipping amount, or an amount.");
    setRefundError(errors);
    if (errors.length) return;
    const reason = draft.reason.trim() || undefined;
    refund.mutate(amount ? { amount, reason } : { lines, ...(shipping ? { shipping } : {}), reason });
  };
  return (
    <>
      <p>
        <Link to=".." relative="path">
          ← Orders
        </Link>
      </p>
      <h1>
        Order #{o.number} <span className="badge">{o.status}</span>
      </h1>
      <p>
        Payment <span className="badge">{o.payment_status}</span> · Fulfilment <span className="badge">{o.fulfillment_status}</span>
      </p>
      <p>
        {o.email} · placed {new Date(o.placed_at).toLocaleString()} · {o.payment_provider}
      </p>
      <div className="actions">
        {can.markPaid && (
          <button type="button" onClick={() => act.mutate({ action: "mark-paid" })} disabled={act.isPending}>
            Mark paid
          </button>
        )}
        {can.cancel && (
          <button
            type="button"
            className="danger"
            onClick={() => window.confirm("Cancel this order? Stock is returned and any payment refunded.") && act.mutate({ action: "cancel" })}
            disabled={act.isPending}
          >
            Cancel order
          </button>
        )}
      </div>
      {can.fulfill && (
        <FulfilForm
          order={o}
          onFulfilled={(next) => {
            toast.success(`Order updated: ${next.status}.`);
            updated(next);
          }}
        />
      )}
      <AuthorizationActions
        order={o}
        onDone={(next, message) => {
          toast.success(message);
          updated(next);
        }}
      />
      <FulfilmentList order={o} />
      <ErrorMessage error={act.error} />
      {/* Focusable: on a phone the lines scroll sideways, and keyboards must reach them. */}
      <div className="table-wrap" tabIndex={0} role="region" aria-label="Items ordered">
        <table>
          <thead>
            <tr>
              <th scope="col">Item</th>
              <th scope="col">SKU</th>
              <th scope="col" className="num">Quantity</th>
              <th scope="col" className="num">Shipped</th>
              <th scope="col" className="num">Refunded</th>
              <th scope="col" className="num">Unit price</th>
              <th scope="col" className="num">Total</th>
            </tr>
          </thead>
          <tbody>
            {o.lines.map((line) => (
              <tr key={line.id}>
                <td>
                  {line.title} {line.variant_title && <span className="muted">— {line.variant_title}</span>}
                </td>
                <td>{line.sku}</td>
                <td className="num">{line.quantity}</td>
                <td className="num">{line.fulfilled_quantity}</td>
                <td className="num">{line.refunded_quantity}</td>
                <td className="num">{formatMoney(money(line.unit_price))}</td>
                <td className="num">{formatMoney(money(line.line_total))}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row" colSpan={6}>
                Total
              </th>
              <td className="num price">{formatMoney(money(o.total))}</td>
            </tr>
            {Number(money(o.refunded_amount)?.amount ?? 0) > 0 && (
              <tr>
                <th scope="row" colSpan={6}>
                  Refunded
                </th>
                <td className="num">{formatMoney(money(o.refunded_amount))}</td>
              </tr>
            )}
          </tfoot>
        </table>
      </div>
      <Totals breakdown={o} />
      {can.refund && (
        <form className="stack" noValidate onSubmit={submitRefund} aria-labelledby="refund-heading">
          <h2 id="refund-heading">Refund</h2>
          <p className="muted">
            Up to {left.toFixed(2)} {o.currency} is left to refund; refund again later as often as needed.
          </p>
          {o.lines
            .filter((line) => line.quantity > line.refunded_quantity)
            .map((line) => (
              <div className="actions" key={line.id}>
                <Field
                  label={`${line.sku}: units (of ${line.quantity - line.refunded_quantity})`}
                  inputMode="numeric"
                  value={draft.quantities[line.id] ?? ""}
                  onChange={(e) => setDraft({ ...draft, quantities: { ...draft.quantities, [line.id]: e.target.value } })}
                />
                <label>
                  <input
                    type="checkbox"
                    checked={draft.restock[line.id] ?? false}
                    onChange={(e) => setDraft({ ...draft, restock: { ...draft.restock, [line.id]: e.target.checked } })}
                  />{" "}
                  Put back into stock
                </label>
              </div>
            ))}
          <Field label={`Shipping (${o.currency})`} inputMode="decimal" value={draft.shipping} onChange={(e) => setDraft({ ...draft, shipping: e.target.value })} />
          <Field
            label={`Or a plain amount (${o.currency})`}
            inputMode="decimal"
            value={draft.amount}
            onChange={(e) => setDraft({ ...draft, amount: e.target.value })}
          />
          <Field label="Reason" value={draft.reason} onChange={(e) => setDraft({ ...draft, reason: e.target.value })} errors={refundError} />
          <div className="actions">
            <button type="submit" className="secondary" disabled={refund.isPending}>
              Refund
            </button>
          </div>
          <ErrorMessage error={refund.error} />
        </form>
      )}
      <h2>Shipping address</h2>
      <address>
        {o.shipping_address.name}, {o.shipping_address.line1} {o.shipping_address.line2}, {o.shipping_address.postal_code}{" "}
        {o.shipping_address.city}, {o.shipping_address.country}
      </address>
      <h2>Payments</h2>
      {o.payments.length === 0 ? (
        <Empty>No payments yet.</Empty>
      ) : (
        <ul>
          {o.payments.map((p, i) => (
            <li key={i}>
              {new Date(p.created_at).toLocaleString()}: {p.kind} {formatMoney(money(p.amount))} via {p.provider} <span className="badge">{p.status}</span>
              {p.reference && ` (${p.reference})`} {p.reason && `— ${p.reason}`}
            </li>
          ))}
        </ul>
      )}
      <h2>Timeline</h2>
      <form
        className="actions"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          if (note.trim()) addNote.mutate(note.trim());
        }}
      >
        <Field label="Internal note" value={note} onChange={(e) => setNote(e.target.value)} maxLength={5000} />
        <button type="submit" className="secondary" disabled={addNote.isPending || !note.trim()}>
          Add note
        </button>
      </form>
      <ErrorMessage error={addNote.error} />
      <ErrorMessage error={timeline.error} onRetry={() => timeline.refetch()} />
      <ol className="timeline" aria-label="Timeline">
        {timeline.items.map((entry) => (
          <li key={entry.id}>
            <time dateTime={entry.created_at}>{new Date(entry.created_at).toLocaleString()}</time> <span className="badge">{entry.type.replace(/_/g, " ")}</span>{" "}
            {entry.message} <span className="muted">— {entry.actor}</span>
          </li>
        ))}
      </ol>
      {timeline.hasNextPage && (
        <button type="button" className="secondary" onClick={() => timeline.fetchNextPage()}>
          Older entries
        </button>
      )}
    </>
  );
}

type RefundBody = { amount?: string; lines?: { line: number; quantity: number; restock?: boolean }[]; shipping?: string; reason?: string };
