import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useLocation, useNavigate, useParams, useSearchParams } from "react-router-dom";
import { unwrap } from "../../api/client";
import { formatMoney, money } from "../../api/money";
import { countryName } from "../../shared/CountrySelect";
import { ErrorMessage, Field, Loading, Notice } from "../../shared/ui";
import { useApi, useTheme } from "../api";
import type { Order } from "../types";

/** How to pay an order placed with "pay later": amount, reference, deadline, and what happens next. */
export function PaymentInstructions({ order, details }: { order: Order; details?: string }) {
  return (
    <section className="alert alert-ok" aria-labelledby="pay-heading">
      <h2 id="pay-heading">How to pay</h2>
      <ol>
        <li>
          Transfer <strong>{formatMoney(money(order.total))}</strong> by bank transfer to the shop
          {details ? ":" : "."}
          {details && <p className="pre-line">{details}</p>}
        </li>
        <li>
          Quote <strong>order {order.number}</strong> as the payment reference, so the shop can match your payment.
        </li>
        {order.expires_at && (
          <li>
            Pay by <strong>{new Date(order.expires_at).toLocaleString()}</strong>: unpaid orders are cancelled then and the
            items go back on sale.
          </li>
        )}
      </ol>
      <p>
        {details ? "" : `Reply to the confirmation e-mail sent to ${order.email} for the shop's bank details. `}
        The order ships once the payment arrives; its status here then changes to <em>paid</em>.
      </p>
    </section>
  );
}

export function OrderSummary({ order, paymentDetails }: { order: Order; paymentDetails?: string }) {
  return (
    <>
      <p>
        Status: <span className="badge">{order.status}</span> · placed {new Date(order.placed_at).toLocaleString()}
      </p>
      {order.payment_provider === "manual" && order.status === "pending" ? (
        <PaymentInstructions order={order} details={paymentDetails} />
      ) : (
        order.expires_at && <Notice>Awaiting payment: unless paid by {new Date(order.expires_at).toLocaleString()}, the order is cancelled.</Notice>
      )}
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
          <tfoot>
            <tr>
              <th scope="row" colSpan={2}>
                Total
              </th>
              <td className="num price">{formatMoney(money(order.total))}</td>
            </tr>
          </tfoot>
        </table>
      </div>
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
        {order.shipping_address.postal_code} {order.shipping_address.city}, {countryName(order.shipping_address.country)}
      </address>
    </>
  );
}

export function OrderPage() {
  const { number = "" } = useParams();
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const placed = Boolean((useLocation().state as { placed?: boolean } | null)?.placed);
  const theme = useTheme();
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
      {order.data && <OrderSummary order={order.data} paymentDetails={theme.data?.payment_instructions || undefined} />}
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
