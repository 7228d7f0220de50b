import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { unwrap } from "../../api/client";
import { formatMoney, money } from "../../api/money";
import type { components } from "../../api/generated/shop";
import { ErrorMessage, Loading } from "../../shared/ui";
import { useShopApi } from "../session";
import { queryKeys } from "../queryKeys";

export type Dashboard = components["schemas"]["DashboardOutput"];

/** "12 s ago", "3 min ago": how old a figure is, for people. */
export function ageText(moment: string, now: number = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - new Date(moment).getTime()) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

/** Today's figures and the to-dos, saying when they were counted; re-read every minute. */
export function DashboardTodayView({ data, now }: { data: Dashboard; now?: number }) {
  const todo = data.todo;
  const todos = [
    { count: todo.unfulfilled_orders, text: "paid orders to fulfil", to: "orders?status=paid" },
    { count: todo.low_stock_variants, text: "variants low on stock", to: "inventory" },
    { count: todo.failed_webhooks, text: "webhook deliveries failing", to: "webhooks" },
  ];
  return (
    <>
      <section aria-labelledby="today-heading">
        <h2 id="today-heading">Today</h2>
        <p className="muted">
          Counted {ageText(data.as_of, now)} ({new Date(data.as_of).toLocaleTimeString()}), days in UTC.
          {data.sales_report_as_of
            ? ` The sales report below was refreshed ${ageText(data.sales_report_as_of, now)}.`
            : " The sales report below has not been computed yet."}
        </p>
        <dl className="grid">
          <div className="card">
            <dt>Orders placed</dt>
            <dd className="price">{data.today.orders_placed}</dd>
          </div>
          <div className="card">
            <dt>Orders paid</dt>
            <dd className="price">{data.today.orders_paid}</dd>
          </div>
          <div className="card">
            <dt>Revenue</dt>
            <dd className="price">{formatMoney(money(data.today.revenue))}</dd>
          </div>
          <div className="card">
            <dt>Visitors</dt>
            <dd className="price" title="The platform does not count storefront visitors.">
              {data.today.visitors ?? "not tracked"}
            </dd>
          </div>
        </dl>
      </section>
      <section aria-labelledby="todo-heading">
        <h2 id="todo-heading">To do</h2>
        {todos.every((item) => item.count === 0) ? (
          <p className="empty">Nothing waiting.</p>
        ) : (
          <ul>
            {todos
              .filter((item) => item.count > 0)
              .map((item) => (
                <li key={item.to}>
                  <Link to={item.to}>
                    {item.count} {item.text}
                  </Link>
                </li>
              ))}
          </ul>
        )}
      </section>
    </>
  );
}

export function DashboardToday() {
  const { api, slug } = useShopApi();
  const dashboard = useQuery({
    queryKey: queryKeys.shop(slug).dashboard(),
    queryFn: () => unwrap(api.GET("/api/admin/v1/dashboard")),
    refetchInterval: 60_000,
  });
  if (dashboard.isPending) return <Loading label="Counting today…" />;
  if (dashboard.isError) return <ErrorMessage error={dashboard.error} onRetry={() => dashboard.refetch()} />;
  return <DashboardTodayView data={dashboard.data} />;
}
