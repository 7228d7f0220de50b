import { formatMoney, money } from "../api/money";
import type { components } from "../api/generated/shop";

type S = components["schemas"];
type Breakdown = {
  totals: S["TotalsOutput"];
  tax_lines: readonly S["TaxLineOutput"][];
  discounts: readonly S["AppliedDiscountOutput"][];
  prices_include_tax: boolean;
  shipping_method?: S["QuotedMethodOutput"] | null;
};

/** The price breakdown of a cart or an order, as the API computed it (never recomputed here). */
export function Totals({ breakdown }: { breakdown: Breakdown }) {
  const { totals, tax_lines, discounts, prices_include_tax, shipping_method } = breakdown;
  return (
    <table className="totals" data-testid="totals">
      <caption className="visually-hidden">Order totals</caption>
      <tbody>
        <tr>
          <th scope="row">Subtotal</th>
          <td className="num">{formatMoney(money(totals.subtotal))}</td>
        </tr>
        {discounts.map((discount) => (
          <tr key={`${discount.id}`}>
            <th scope="row">{discount.code ? `Discount ${discount.code}` : "Promotion"}</th>
            <td className="num">−{formatMoney(money(discount.amount))}</td>
          </tr>
        ))}
        <tr>
          <th scope="row">Shipping{shipping_method ? ` (${shipping_method.name})` : ""}</th>
          <td className="num">{shipping_method ? formatMoney(money(totals.shipping)) : "—"}</td>
        </tr>
        {tax_lines.map((line) => (
          <tr key={`${line.name}-${line.rate}`}>
            <th scope="row">
              {prices_include_tax ? "Includes " : ""}
              {line.name} {line.rate}%
            </th>
            <td className="num">{formatMoney(money(line.amount))}</td>
          </tr>
        ))}
        <tr>
          <th scope="row">Total</th>
          <td className="num price" data-testid="total">
            {formatMoney(money(totals.total))}
          </td>
        </tr>
      </tbody>
    </table>
  );
}
