import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useState, type FormEvent } from "react";
import { Link, useLocation, useParams, useSearchParams } from "react-router-dom";
import { unwrap } from "../../api/client";
import { formatMoney, money } from "../../api/money";
import { countryName } from "../../shared/CountrySelect";
import { EMAIL_RE, ErrorMessage, Field, Loading, mergeErrors, Notice, type FieldErrors } from "../../shared/ui";
import { forgetCart, useApi, useTheme } from "../api";
import { useOrderLive } from "../orderLive";
import { ParcelTracking } from "../../shared/ParcelTracking";
import { Totals } from "../../shared/Totals";
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

/** What has shipped, parcel by parcel, with how to follow each; and whether more is to come. */
export function Shipments({ order }: { order: Order }) {
  const parcels = order.fulfillments ?? [];
  if (!parcels.length) return null;
  const byId = new Map(order.lines.map((line) => [line.id, line]));
  return (
    <section aria-labelledby="shipments-heading">
      <h2 id="shipments-heading">Shipped</h2>
      <ul>
        {parcels.map((parcel) => (
          <li key={parcel.id}>
            {new Date(parcel.created_at).toLocaleDateString()}:{" "}
            {parcel.lines
              .map((item) => {
                const line = byId.get(item.line);
                return `${item.quantity} × ${line ? line.title + (line.variant_title ? ` (${line.variant_title})` : "") : "item"}`;
              })
              .join(", ")}
            <ParcelTracking parcel={parcel} />
          </li>
        ))}
      </ul>
      {order.fulfillment_status === "partially_fulfilled" && <p className="muted">The rest of your order follows in another parcel.</p>}
    </section>
  );
}

export function OrderSummary({ order, paymentDetails }: { order: Order; paymentDetails?: string }) {
  return (
    <>
      <p>
        Status: <span className="badge">{order.status}</span> · payment <span className="badge">{order.payment_status}</span> · placed{" "}
        {new Date(order.placed_at).toLocaleString()}
      </p>
      {order.payment_provider === "manual" && order.status === "pending" ? (
        <PaymentInstructions order={order} details={paymentDetails} />
      ) : (
        order.expires_at &&
        !order.payment_action_url && <Notice>Awaiting payment: unless paid by {new Date(order.expires_at).toLocaleString()}, the order is cancelled.</Notice>
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
        </table>
      </div>
      <Totals breakdown={order} />
      <Shipments order={order} />
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
        {order.shipping_address.postal_code} {order.shipping_address.city}
        {order.shipping_address.region ? `, ${order.shipping_address.region}` : ""}, {countryName(order.shipping_address.country)}
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
  const { refetch } = order;
  useOrderLive(
    number,
    token,
    useCallback(() => void refetch(), [refetch]),
  );

  return (
    <>
      <h1>Order {number}</h1>
      {placed && (
        <Notice>
          Thank you! Your order is placed. This page&rsquo;s link shows the order at any time (it is in your confirmation
          e-mail too): <a href={window.location.href}>{window.location.href}</a>
        </Notice>
      )}
      {!token && <ErrorMessage error={new Error("This link lacks the order's token.")} />}
      {order.isLoading && <Loading label="Loading the order…" />}
      <ErrorMessage error={order.error} />
      {order.data?.payment_action_url && <PaymentConfirmation order={order.data} token={token} />}
      {order.data && <OrderSummary order={order.data} paymentDetails={theme.data?.payment_instructions || undefined} />}
    </>
  );
}

/**
 * The payment waits for the shopper (3-D Secure, a redirect). The `test` provider's page is
 * simulated here (approve or decline); a real provider's is elsewhere, and the shopper comes back
 * to this page, which then asks the server to look the payment up.
 */
function PaymentConfirmation({ order, token }: { order: Order; token: string }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const simulated = order.payment_action_url?.startsWith("/checkout/authenticate") ?? false;
  const confirm = useMutation({
    mutationFn: (details: Record<string, string>) =>
      unwrap(
        api.POST("/api/storefront/v1/orders/{number}/payment-confirmation", {
          params: { path: { number: order.number } },
          body: { token, details },
        }),
      ),
    onSuccess: (paid) => {
      forgetCart();
      queryClient.setQueryData(["order", String(order.number), token], paid);
    },
    onError: () => queryClient.invalidateQueries({ queryKey: ["order", String(order.number), token] }),
  });
  return (
    <section aria-labelledby="confirm-heading" className="narrow">
      <h2 id="confirm-heading">Confirm your payment</h2>
      {simulated ? (
        <>
          <p>Your bank asks you to confirm this payment (test 3-D Secure).</p>
          <div className="actions">
            <button type="button" disabled={confirm.isPending} onClick={() => confirm.mutate({ authentication: "approve" })}>
              Approve payment
            </button>
            <button type="button" className="secondary" disabled={confirm.isPending} onClick={() => confirm.mutate({ authentication: "decline" })}>
              Decline
            </button>
          </div>
        </>
      ) : (
        <>
          <p>Your bank asks you to confirm this payment on its page.</p>
          <div className="actions">
            <a className="button" href={order.payment_action_url ?? "#"}>
              Continue to your bank
            </a>
            <button type="button" className="secondary" disabled={confirm.isPending} onClick={() => confirm.mutate({})}>
              I have confirmed it
            </button>
          </div>
        </>
      )}
      <ErrorMessage error={confirm.error} />
      {confirm.isError && <p>Your cart is kept: go back to it to pay with another card.</p>}
    </section>
  );
}

export function OrderLookupPage() {
  const api = useApi();
  const [email, setEmail] = useState("");
  const [number, setNumber] = useState("");
  const [clientErrors, setClientErrors] = useState<FieldErrors>({});
  const lookup = useMutation({
    mutationFn: () =>
      unwrap(api.POST("/api/storefront/v1/orders/lookup", { body: { email: email.trim(), number: Number(number.trim()) } })),
  });
  const errors = mergeErrors(clientErrors, lookup.error);
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const found: FieldErrors = {};
    if (!EMAIL_RE.test(email.trim())) found.email = ["Enter the e-mail the order was placed with."];
    if (!/^\d{1,15}$/.test(number.trim())) found.number = ["The order number is all digits."];
    setClientErrors(found);
    if (Object.keys(found).length === 0) lookup.mutate();
  };
  return (
    <>
      <h1>Find your order</h1>
      {lookup.isSuccess ? (
        <Notice>
          If order {number.trim()} was placed with {email.trim()}, we have e-mailed its link there. Open it to see the order.
        </Notice>
      ) : (
        <form className="narrow" onSubmit={onSubmit} noValidate>
          <p>We e-mail the order&rsquo;s link to the address it was placed with.</p>
          <Field label="E-mail" type="email" autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} errors={errors.email} />
          <Field label="Order number" inputMode="numeric" value={number} onChange={(e) => setNumber(e.target.value)} errors={errors.number} />
          <ErrorMessage error={lookup.error} />
          <button type="submit" disabled={lookup.isPending}>
            E-mail me the link
          </button>
        </form>
      )}
      <p>
        Have an account? <Link to="/account">Your orders are in your account</Link>.
      </p>
    </>
  );
}
