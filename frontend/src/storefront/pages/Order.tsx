import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useLocation, useNavigate, useParams, useSearchParams } from "react-router-dom";
import { unwrap } from "../../api/client";
import { formatMoney, money } from "../../api/money";
import { ErrorMessage, Field, Loading, Notice } from "../../shared/ui";
import { useApi } from "../api";
import { Totals } from "../../shared/Totals";
import type { Order } from "../types";

export function OrderSummary({ order }: { order: Order }) {
  return (
    <>
      <p>
        Status: <span className="badge">{order.status}</span> · placed {new Date(order.placed_at).toLocaleString()}
      </p>
      {order.expires_at && <Notice>Awaiting payment: unless paid by {new Date(order.expires_at).toLocaleString()}, the order is cancelled.</Notice>}
      <div className="table-wrap">
        <table>
          <caption className="visually-hidden">Items ordered</caption>
          <thead>
            <tr>
              <th scope="col">Item</th>
              <th scope="col" className="num">Quantity</th>
              <th scope="col" className="num">Total</th>
            </tr>
          </thead>
          <tbody>
            {order.lines.map((line) => (
              <tr key={line.id}>
                <td>
                  {line.title}
                  {line.variant_title && <span className="muted"> — {line.variant_title}</span>}
                </td>
                <td className="num">{line.quantity}</td>
                <td className="num">{formatMoney(money(line.line_total))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Totals breakdown={order} />
      <h2>Shipping to</h2>
      <address>
        {order.shipping_address.name}
        <br />
        {order.shipping_address.line1}
        {order.shipping_address.line2 && (
          <>
            <br />
            {order.shipping_address.line2}
          </>
        )}
        <br />
        {order.shipping_address.postal_code} {order.shipping_address.city}, {order.shipping_address.country}
      </address>
    </>
  );
}

export function OrderPage() {
  const { number = "" } = useParams();
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const placed = Boolean((useLocation().state as { placed?: boolean } | null)?.placed);
  const api = useApi();
  const order = useQuery({
    queryKey: ["order", number, token],
    enabled: /^\d+$/.test(number) && token !== "",
    queryFn: () =>
      unwrap(
        api.GET("/api/storefront/v1/orders/{number}", {
          params: { path: { number: Number(number) }, query: { token } },
        }),
      ),
  });

  return (
    <>
      <h1>Order {number}</h1>
      {placed && (
        <Notice>
          Thank you! Your order is placed. Keep this page&rsquo;s address to look the order up again.
        </Notice>
      )}
      {!token && <ErrorMessage error={new Error("This link lacks the order's token.")} />}
      {order.isLoading && <Loading label="Loading the order…" />}
      <ErrorMessage error={order.error} />
      {order.data && <OrderSummary order={order.data} />}
    </>
  );
}

export function OrderLookupPage() {
  const navigate = useNavigate();
  const [number, setNumber] = useState("");
  const [token, setToken] = useState("");
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const found: Record<string, string[]> = {};
    if (!/^\d+$/.test(number.trim())) found.number = ["The order number is all digits."];
    if (!token.trim()) found.token = ["Paste the token from your confirmation e-mail."];
    setErrors(found);
    if (Object.keys(found).length === 0) navigate(`/orders/${number.trim()}?token=${encodeURIComponent(token.trim())}`);
  };
  return (
    <>
      <h1>Find your order</h1>
      <form className="narrow" onSubmit={onSubmit} noValidate>
        <Field label="Order number" inputMode="numeric" value={number} onChange={(e) => setNumber(e.target.value)} errors={errors.number} />
        <Field label="Order token" value={token} onChange={(e) => setToken(e.target.value)} errors={errors.token} hint="From your confirmation e-mail." />
        <button type="submit">Look up</button>
      </form>
    </>
  );
}
