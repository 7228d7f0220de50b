import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { unwrap } from "../../api/client";
import { formatMoney, money } from "../../api/money";
import { Empty, ErrorMessage, Loading } from "../../shared/ui";
import { queryKeys } from "../queryKeys";
import { useCursorList, usePlatform, useShopApi } from "../session";
import { LoadMore } from "../ui/LoadMore";
import { useToast } from "../ui/toast";

export function bytes(value: number): string {
  if (value >= 1024 ** 3) return `${(value / 1024 ** 3).toFixed(1)} GB`;
  if (value >= 1024 ** 2) return `${(value / 1024 ** 2).toFixed(1)} MB`;
  return `${Math.round(value / 1024)} KB`;
}

export function Meter({ label, used, limit, format = (n: number) => n.toLocaleString() }: { label: string; used: number | null; limit: number; format?: (n: number) => string }) {
  return (
    <div className="field">
      <span>
        <strong>{label}</strong>: {used === null ? "unknown right now" : format(used)} of {format(limit)}
      </span>
      <meter min={0} max={Math.max(limit, 1)} value={used ?? 0} high={limit * 0.8} aria-label={label} />
    </div>
  );
}

/** Plan and usage: what the shop uses against its plan's limits, and changing the plan. */
export function PlanUsagePage() {
  const { slug } = useShopApi();
  const platform = usePlatform();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [choice, setChoice] = useState("");
  const subscription = useQuery({
    queryKey: queryKeys.shop(slug).subscription(),
    queryFn: () => unwrap(platform.GET("/api/platform/v1/shops/{slug}/subscription", { params: { path: { slug } } })),
  });
  const usage = useQuery({
    queryKey: queryKeys.shop(slug).usage(),
    queryFn: () => unwrap(platform.GET("/api/platform/v1/shops/{slug}/usage", { params: { path: { slug } } })),
  });
  const plans = useQuery({
    queryKey: queryKeys.plans(),
    queryFn: () => unwrap(platform.GET("/api/platform/v1/plans")),
    staleTime: 10 * 60_000,
  });
  const change = useMutation({
    mutationFn: (plan: string) =>
      unwrap(platform.PUT("/api/platform/v1/shops/{slug}/subscription", { params: { path: { slug } }, body: { plan } })),
    onSuccess: (updated) => {
      toast.success(`The shop is now on the ${updated.plan.name} plan.`);
      queryClient.setQueryData(queryKeys.shop(slug).subscription(), updated);
      void queryClient.invalidateQueries({ queryKey: queryKeys.shop(slug).usage() });
      void queryClient.invalidateQueries({ queryKey: queryKeys.shop(slug).upcomingInvoice() });
    },
  });
  const current = subscription.data?.plan.code;
  const u = usage.data;
  return (
    <>
      <h1>Plan and usage</h1>
      {(subscription.isPending || usage.isPending) && <Loading />}
      <ErrorMessage error={subscription.error ?? usage.error ?? plans.error} />
      {subscription.data && (
        <p>
          On <strong>{subscription.data.plan.name}</strong> ({formatMoney(money(subscription.data.plan.price))} a month) since{" "}
          {new Date(subscription.data.plan_changed_at).toLocaleDateString()}. This period:{" "}
          {new Date(subscription.data.current_period.start).toLocaleDateString()} –{" "}
          {new Date(subscription.data.current_period.end).toLocaleDateString()}.
        </p>
      )}
      {u && (
        <section aria-labelledby="usage-heading">
          <h2 id="usage-heading">Usage</h2>
          <Meter label="Products" used={u.products.used} limit={u.products.limit} />
          <Meter label="Orders this period" used={u.orders.used} limit={u.orders.limit} />
          <p className="muted">{u.orders.included.toLocaleString()} orders a month included; more are billed as overage.</p>
          <Meter label="Staff seats" used={u.staff_seats.used} limit={u.staff_seats.limit} />
          <Meter label="Image storage" used={u.storage_bytes.used} limit={u.storage_bytes.limit} format={bytes} />
          <p>
            Admin API calls this period: {u.api_calls.used === null ? "unknown right now" : u.api_calls.used.toLocaleString()} (
            {u.api_calls.included.toLocaleString()} included; at most {u.api_calls.limit_per_minute} a minute).
          </p>
        </section>
      )}
      {plans.data && (
        <section aria-labelledby="change-heading">
          <h2 id="change-heading">Change plan</h2>
          <form
            className="actions"
            onSubmit={(event) => {
              event.preventDefault();
              if (choice && choice !== current) change.mutate(choice);
            }}
          >
            <label htmlFor="plan-choice">Plan</label>
            <select id="plan-choice" value={choice || current || ""} onChange={(e) => setChoice(e.target.value)}>
              {plans.data.results.map((plan) => (
                <option key={plan.code} value={plan.code}>
                  {plan.name} — {formatMoney(money(plan.price))} a month
                </option>
              ))}
            </select>
            <button type="submit" disabled={change.isPending || !choice || choice === current}>
              Change plan
            </button>
          </form>
          <ErrorMessage error={change.error} />
        </section>
      )}
    </>
  );
}

export function InvoicesPage() {
  const { slug } = useShopApi();
  const platform = usePlatform();
  const upcoming = useQuery({
    queryKey: queryKeys.shop(slug).upcomingInvoice(),
    queryFn: () => unwrap(platform.GET("/api/platform/v1/shops/{slug}/invoices/upcoming", { params: { path: { slug } } })),
  });
  const invoices = useCursorList(queryKeys.shop(slug).invoices(), (cursor) =>
    unwrap(platform.GET("/api/platform/v1/shops/{slug}/invoices", { params: { path: { slug }, query: { cursor } } })),
  );
  return (
    <>
      <h1>Invoices</h1>
      <section aria-labelledby="upcoming-heading">
        <h2 id="upcoming-heading">This period so far</h2>
        {upcoming.isPending && <Loading />}
        <ErrorMessage error={upcoming.error} />
        {upcoming.data && (
          <>
            <p>
              {upcoming.data.period}, plan {upcoming.data.plan}: <strong>{formatMoney(money(upcoming.data.total))}</strong> (
              {upcoming.data.usage.orders} orders, {upcoming.data.usage.api_calls} API calls so far)
            </p>
            <ul>
              {upcoming.data.lines.map((line, index) => (
                <li key={index}>
                  {line.description}: {line.quantity} × {formatMoney(money(line.unit_price))} = {formatMoney(money(line.amount))}
                </li>
              ))}
            </ul>
          </>
        )}
      </section>
      <section aria-labelledby="issued-heading">
        <h2 id="issued-heading">Issued</h2>
        {invoices.isPending && <Loading />}
        <ErrorMessage error={invoices.error} />
        {invoices.isSuccess && invoices.items.length === 0 && <Empty>No invoices yet: the first is issued after the first month.</Empty>}
        {invoices.items.length > 0 && (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Invoice</th>
                  <th scope="col">Period</th>
                  <th scope="col">Status</th>
                  <th scope="col">Due</th>
                  <th scope="col" className="num">Total</th>
                </tr>
              </thead>
              <tbody>
                {invoices.items.map((invoice) => (
                  <tr key={invoice.number}>
                    <td>
                      <details>
                        <summary>{invoice.number}</summary>
                        <ul>
                          {invoice.lines.map((line, index) => (
                            <li key={index}>
                              {line.description}: {formatMoney(money(line.amount))}
                            </li>
                          ))}
                        </ul>
                      </details>
                    </td>
                    <td>{invoice.period}</td>
                    <td>
                      <span className={`badge ${invoice.status === "paid" ? "ok" : ""}`}>{invoice.status}</span>
                    </td>
                    <td>{invoice.due_at ? new Date(invoice.due_at).toLocaleDateString() : "—"}</td>
                    <td className="num">{formatMoney(money(invoice.total))}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <LoadMore list={invoices} />
      </section>
    </>
  );
}
