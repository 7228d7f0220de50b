import { useQuery } from "@tanstack/react-query";
import { useId, useState } from "react";
import { unwrap } from "../../../api/client";
import { formatMoney, money } from "../../../api/money";
import { ErrorMessage, Loading } from "../../../shared/ui";
import { queryKeys } from "../../queryKeys";
import { useShopApi } from "../../session";
import type { Product } from "../../types";
import { chartOf, daysBefore, type PriceDay, type VariantHistory } from "./priceHistory";

const RANGES = [
  { days: 30, label: "30 days" },
  { days: 90, label: "90 days" },
  { days: 365, label: "1 year" },
  { days: 731, label: "2 years" },
];
const WIDTH = 600;
const HEIGHT = 160;

/** The product's price history: one variant at a time, over a chosen range ending today. */
export function PriceHistorySection({ product, today }: { product: Product; today?: string }) {
  const { api, slug } = useShopApi();
  const headingId = useId();
  const [variantId, setVariantId] = useState(product.variants[0]?.id ?? 0);
  const [days, setDays] = useState(90);
  const to = today ?? new Date().toISOString().slice(0, 10);
  const from = daysBefore(to, days - 1);
  const history = useQuery({
    queryKey: queryKeys.shop(slug).priceHistory(product.id, variantId, from, to),
    queryFn: () =>
      unwrap(
        api.GET("/api/admin/v1/products/{product_id}/price-history", {
          params: { path: { product_id: product.id }, query: { variant: variantId, from, to } },
        }),
      ),
    enabled: variantId > 0,
  });
  const variant = history.data?.variants[0];
  return (
    <section aria-labelledby={headingId}>
      <h2 id={headingId}>Price history</h2>
      <div className="price-history-controls">
        {product.variants.length > 1 && (
          <label>
            Variant{" "}
            <select value={variantId} onChange={(event) => setVariantId(Number(event.target.value))}>
              {product.variants.map((v) => (
                <option key={v.id} value={v.id}>
                  {v.sku}
                  {v.title ? ` — ${v.title}` : ""}
                </option>
              ))}
            </select>
          </label>
        )}
        <label>
          Range{" "}
          <select value={days} onChange={(event) => setDays(Number(event.target.value))}>
            {RANGES.map((range) => (
              <option key={range.days} value={range.days}>
                {range.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      {history.isPending ? (
        variantId > 0 ? <Loading /> : null
      ) : history.isError ? (
        <ErrorMessage error={history.error} onRetry={() => history.refetch()} />
      ) : variant ? (
        <PriceChart history={variant} from={from} to={to} />
      ) : null}
    </section>
  );
}

/** A step chart of the closing price with each changed day's range, described for screen readers, with a table beside it. */
export function PriceChart({ history, from, to }: { history: VariantHistory; from: string; to: string }) {
  const titleId = useId();
  const descId = useId();
  const chart = chartOf(history, from, to, WIDTH, HEIGHT);
  if (!chart.path) return <p className="empty">No price recorded for {history.sku} in this range.</p>;
  const currency = money(history.days[0]?.close ?? history.opening?.close)?.currency ?? "";
  const price = (value: number) => formatMoney({ amount: value.toFixed(2), currency });
  const opening = history.opening ? formatMoney(money(history.opening.close)) : null;
  const closing = history.days.length ? formatMoney(money(history.days[history.days.length - 1]!.close)) : opening;
  const changes = history.days.reduce((sum, day) => sum + day.changes, 0);
  return (
    <figure className="price-history">
      <svg className="chart" viewBox={`0 0 ${WIDTH} ${HEIGHT + 20}`} role="img" aria-labelledby={titleId} aria-describedby={descId}>
        <title id={titleId}>
          Price of {history.sku} from {from} to {to}
        </title>
        <desc id={descId}>
          {opening ? `Opened at ${opening}. ` : ""}
          {changes} price {changes === 1 ? "change" : "changes"} on {history.days.length} {history.days.length === 1 ? "day" : "days"}; lowest{" "}
          {price(chart.low)}, highest {price(chart.high)}; {closing ? `closed at ${closing}.` : ""}
        </desc>
        {chart.whiskers.map((whisker) => (
          <line key={whisker.date} x1={whisker.x} x2={whisker.x} y1={whisker.low} y2={whisker.high} stroke="var(--muted)" strokeWidth={3} />
        ))}
        <path d={chart.path} fill="none" stroke="var(--accent)" strokeWidth={2} />
        <line x1={0} y1={HEIGHT} x2={WIDTH} y2={HEIGHT} stroke="currentColor" />
        <text x={0} y={12} fontSize={12} fill="currentColor">
          {price(chart.high)}
        </text>
        <text x={0} y={HEIGHT - 4} fontSize={12} fill="currentColor">
          {price(chart.low)}
        </text>
        <text x={0} y={HEIGHT + 16} fontSize={12} fill="currentColor">
          {from}
        </text>
        <text x={WIDTH} y={HEIGHT + 16} fontSize={12} textAnchor="end" fill="currentColor">
          {to}
        </text>
      </svg>
      <figcaption>
        <details>
          <summary>The days with a change, as a table</summary>
          <div className="table-wrap" tabIndex={0} role="region" aria-label={`Price changes of ${history.sku}`}>
            <table>
              <thead>
                <tr>
                  <th scope="col">Day (UTC)</th>
                  <th scope="col" className="num">
                    Lowest
                  </th>
                  <th scope="col" className="num">
                    Highest
                  </th>
                  <th scope="col" className="num">
                    Close
                  </th>
                  <th scope="col" className="num">
                    Changes
                  </th>
                </tr>
              </thead>
              <tbody>
                {history.opening && <DayRow day={history.opening} label={`${history.opening.date} (before the range)`} />}
                {history.days.map((day) => (
                  <DayRow key={day.date} day={day} label={day.date} />
                ))}
              </tbody>
            </table>
          </div>
        </details>
      </figcaption>
    </figure>
  );
}

function DayRow({ day, label }: { day: PriceDay; label: string }) {
  return (
    <tr>
      <td>{label}</td>
      <td className="num">{formatMoney(money(day.min))}</td>
      <td className="num">{formatMoney(money(day.max))}</td>
      <td className="num">{formatMoney(money(day.close))}</td>
      <td className="num">{day.changes}</td>
    </tr>
  );
}
