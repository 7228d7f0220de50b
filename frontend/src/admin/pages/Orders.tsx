import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Totals } from "../../shared/Totals";
import { useState, type FormEvent } from "react";
import { Link, useParams, useSearchParams } from "react-router-dom";
import { newIdempotencyKey, unwrap } from "../../api/client";
import { formatMoney, money, parseAmount } from "../../api/money";
import { Empty, ErrorMessage, Field, Loading, Notice } from "../../shared/ui";
import { useCursorList, useShopApi } from "../session";
import type { Order, OrderStatus } from "../types";

const STATUSES: OrderStatus[] = ["pending", "paid", "fulfilled", "cancelled", "refunded"];

export function OrdersPage() {
  const { api, slug } = useShopApi();
  const [params, setParams] = useSearchParams();
  const [email, setEmail] = useState(params.get("email") ?? "");
  const status = params.get("status") ?? "";
  const list = useCursorList(["admin-orders", slug, status, params.get("email")], (cursor) =>
    unwrap(
      api.GET("/api/admin/v1/orders", {
        params: { query: { status: (status || undefined) as OrderStatus | undefined, email: params.get("email") || undefined, cursor } },
      }),
    ),
  );
  const setParam = (name: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next);
  };
  return (
    <>
      <h1>Orders</h1>
      <form
        className="actions"
        role="search"
        onSubmit={(event: FormEvent) => {
          event.preventDefault();
          setParam("email", email.trim());
        }}
      >
        <label htmlFor="order-status">Status</label>
        <select id="order-status" value={status} onChange={(e) => setParam("status", e.target.value)}>
          <option value="">Any</option>
          {STATUSES.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
        <label htmlFor="order-email">E-mail</label>
        <input id="order-email" type="search" value={email} onChange={(e) => setEmail(e.target.value)} />
        <button type="submit">Filter</button>
      </form>
      {list.isPending && <Loading />}
      <ErrorMessage error={list.error} onRetry={() => list.refetch()} />
      {list.isSuccess && list.items.length === 0 && <Empty>No orders match.</Empty>}
      {list.items.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Order</th>
                <th scope="col">Placed</th>
                <th scope="col">Customer</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">Total</th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((order) => (
                <tr key={order.number}>
                  <td>
                    <Link to={String(order.number)}>#{order.number}</Link>
                  </td>
                  <td>{new Date(order.placed_at).toLocaleString()}</td>
                  <td>{order.email}</td>
                  <td>
                    <span className="badge">{order.status}</span>
                  </td>
                  <td className="num">{formatMoney(money(order.total))}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.hasNextPage && (
        <button type="button" className="secondary" onClick={() => list.fetchNextPage()}>
          Load more
        </button>
      )}
    </>
  );
}

type Action = "mark-paid" | "fulfill" | "cancel" | "refund";

export function OrderDetailPage() {
  const { api, slug } = useShopApi();
  const { number = "" } = useParams();
  const queryClient = useQueryClient();
  const key = ["admin-order", slug, number];
  const order = useQuery({
    queryKey: key,
    queryFn: () => unwrap(api.GET("/api/admin/v1/orders/{number}", { params: { path: { number: Number(number) } } })),
  });
  const [refund, setRefund] = useState("");
  const [refundError, setRefundError] = useState<string[]>([]);
  const act = useMutation({
    mutationFn: ({ action, amount }: { action: Action; amount?: string }) => {
      const params = { path: { number: Number(number) }, header: { "Idempotency-Key": newIdempotencyKey() } };
      switch (action) {
        case "mark-paid":
          return unwrap(api.POST("/api/admin/v1/orders/{number}/mark-paid", { params, body: {} }));
        case "fulfill":
          return unwrap(api.POST("/api/admin/v1/orders/{number}/fulfill", { params }));
        case "cancel":
          return unwrap(api.POST("/api/admin/v1/orders/{number}/cancel", { params, body: {} }));
        case "refund":
          return unwrap(api.POST("/api/admin/v1/orders/{number}/refund", { params, body: { amount: amount! } }));
      }
    },
    onSuccess: (updated: Order) => {
      queryClient.setQueryData(key, updated);
      queryClient.invalidateQueries({ queryKey: ["admin-orders", slug] });
      setRefund("");
    },
  });
  if (order.isPending) return <Loading />;
  if (order.isError) return <ErrorMessage error={order.error} onRetry={() => order.refetch()} />;
  const o = order.data;
  const can = {
    markPaid: o.status === "pending",
    fulfill: o.status === "paid",
    cancel: o.status === "pending" || o.status === "paid",
    refund: o.status === "paid" || o.status === "fulfilled",
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
        {o.email} · placed {new Date(o.placed_at).toLocaleString()} · {o.payment_provider}
      </p>
      <div className="actions">
        {can.markPaid && (
          <button type="button" onClick={() => act.mutate({ action: "mark-paid" })} disabled={act.isPending}>
            Mark paid
          </button>
        )}
        {can.fulfill && (
          <button type="button" onClick={() => act.mutate({ action: "fulfill" })} disabled={act.isPending}>
            Fulfil
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
      {can.refund && (
        <form
          className="actions"
          noValidate
          onSubmit={(event) => {
            event.preventDefault();
            const amount = parseAmount(refund);
            setRefundError(amount ? [] : ["An amount like 5.00."]);
            if (amount) act.mutate({ action: "refund", amount });
          }}
        >
          <Field label={`Refund amount (${o.currency})`} inputMode="decimal" value={refund} onChange={(e) => setRefund(e.target.value)} errors={refundError} />
          <button type="submit" className="secondary" disabled={act.isPending}>
            Refund
          </button>
        </form>
      )}
      <ErrorMessage error={act.error} />
      {act.isSuccess && <Notice>Order updated: {o.status}.</Notice>}
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Item</th>
              <th scope="col">SKU</th>
              <th scope="col" className="num">Quantity</th>
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
                <td className="num">{formatMoney(money(line.unit_price))}</td>
                <td className="num">{formatMoney(money(line.line_total))}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row" colSpan={4}>
                Total
              </th>
              <td className="num price">{formatMoney(money(o.total))}</td>
            </tr>
            {Number(money(o.refunded_amount)?.amount ?? 0) > 0 && (
              <tr>
                <th scope="row" colSpan={4}>
                  Refunded
                </th>
                <td className="num">{formatMoney(money(o.refunded_amount))}</td>
              </tr>
            )}
          </tfoot>
        </table>
      </div>
      <Totals breakdown={o} />
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
              {new Date(p.created_at).toLocaleString()}: {p.kind} {formatMoney(money(p.amount))} via {p.provider}
              {p.reference && ` (${p.reference})`} {p.reason && `— ${p.reason}`}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
