import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { unwrap } from "../../api/client";
import { formatMoney, money } from "../../api/money";
import { ErrorMessage, Loading } from "../../shared/ui";
import { Onboarding } from "../Onboarding";
import { queryKeys } from "../queryKeys";
import { useShopApi } from "../session";
import type { SalesReport } from "../types";
import { DashboardToday } from "./DashboardToday";

function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** Daily revenue as bars; the table below carries the same figures for screen readers. */
export function RevenueChart({ report }: { report: SalesReport }) {
  const values = report.days.map((day) => Number(money(day.revenue)?.amount ?? 0));
  const max = Math.max(1, ...values);
  const width = 600;
  const height = 160;
  const bar = width / Math.max(1, values.length);
  return (
    <svg className="chart" viewBox={`0 0 ${width} ${height + 20}`} role="img" aria-label={`Daily revenue from ${report.from} to ${report.to}`}>
      {values.map((value, index) => {
        const h = (value / max) * height;
        const day = report.days[index]!;
        return (
          <rect key={day.date} x={index * bar + 1} y={height - h} width={Math.max(1, bar - 2)} height={h}>
            <title>
              {day.date}: {formatMoney(money(day.revenue))}, {day.orders} orders
            </title>
          </rect>
        );
      })}
      <line x1={0} y1={height} x2={width} y2={height} stroke="currentColor" />
      <text x={0} y={height + 16} fontSize={12} fill="currentColor">
        {report.from}
      </text>
      <text x={width} y={height + 16} fontSize={12} textAnchor="end" fill="currentColor">
        {report.to}
      </text>
    </svg>
  );
}

/**
 * The period's figures. Gross sales and the average order are both before
 * refunds (the average is gross sales over orders); net revenue is after them.
 */
export function SalesFigures({ totals }: { totals: SalesReport["totals"] }) {
  const cards: [string, string, string?][] = [
    ["Orders", String(totals.orders)],
    ["Gross sales", formatMoney(money(totals.gross_sales)), "Before refunds"],
    ["Refunds", formatMoney(money(totals.refunds))],
    ["Net revenue", formatMoney(money(totals.revenue)), "Gross sales less refunds"],
    ["Average order", formatMoney(money(totals.average_order_value)), "Gross sales ÷ orders"],
    ["Items sold", String(totals.items_sold)],
    ["Discounts given", formatMoney(money(totals.discounts))],
    ["Tax collected", formatMoney(money(totals.tax))],
    ["Shipping collected", formatMoney(money(totals.shipping))],
  ];
  return (
    <dl className="grid">
      {cards.map(([label, value, note]) => (
        <div className="card" key={label}>
          <dt>{label}</dt>
          <dd className="price">{value}</dd>
          {note && <dd className="muted">{note}</dd>}
        </div>
      ))}
    </dl>
  );
}

export function DashboardPage() {
  const { api, slug, name } = useShopApi();
  const today = new Date();
  const [to, setTo] = useState(isoDay(today));
  const [from, setFrom] = useState(isoDay(new Date(today.getTime() - 29 * 86400_000)));
  const report = useQuery({
    queryKey: queryKeys.shop(slug).sales(from, to),
    queryFn: () => unwrap(api.GET("/api/admin/v1/reports/sales", { params: { query: { from, to } } })),
  });
  return (
    <>
      <h1>{name}</h1>
      <Onboarding />
      <DashboardToday />
      <section aria-labelledby="sales-heading">
        <h2 id="sales-heading">Sales</h2>
        <div className="actions">
          <label htmlFor="from">From</label>
          <input id="from" type="date" value={from} max={to} onChange={(e) => e.target.value && setFrom(e.target.value)} />
          <label htmlFor="to">To</label>
          <input id="to" type="date" value={to} min={from} onChange={(e) => e.target.value && setTo(e.target.value)} />
        </div>
        {report.isPending && <Loading label="Loading the sales report…" />}
        <ErrorMessage error={report.error} onRetry={() => report.refetch()} />
        {report.data && (
          <>
            <SalesFigures totals={report.data.totals} />
            <RevenueChart report={report.data} />
            <h3>Top products</h3>
            {report.data.top_products.length === 0 ? (
              <p className="empty">No sales in this period.</p>
            ) : (
              <ol>
                {report.data.top_products.map((p) => (
                  <li key={p.product}>
                    {p.title}: {p.quantity} sold, {formatMoney(money(p.revenue))}
                  </li>
                ))}
              </ol>
            )}
            <details>
              <summary>Daily figures</summary>
              <div className="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Day</th>
                      <th scope="col" className="num">Orders</th>
                      <th scope="col" className="num">Revenue</th>
                      <th scope="col" className="num">Refunds</th>
                    </tr>
                  </thead>
                  <tbody>
                    {report.data.days.map((day) => (
                      <tr key={day.date}>
                        <td>{day.date}</td>
                        <td className="num">{day.orders}</td>
                        <td className="num">{formatMoney(money(day.revenue))}</td>
                        <td className="num">{formatMoney(money(day.refunds))}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </details>
          </>
        )}
      </section>
    </>
  );
}
