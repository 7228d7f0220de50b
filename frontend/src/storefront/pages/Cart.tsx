import { useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { formatMoney, money } from "../../api/money";
import { Empty, ErrorMessage, Field, Loading } from "../../shared/ui";
import { useCart, useCartChoices, useCartNotice, useUpdateCartLine } from "../api";
import { Totals } from "../../shared/Totals";
import type { Cart } from "../types";
import { Picture } from "../Picture";

/** Apply a discount code to the cart (one at a time), or remove it; the API says why a code does not apply. */
export function DiscountCodeForm({ cart }: { cart: Cart }) {
  const { applyCode, removeCode } = useCartChoices();
  const [code, setCode] = useState("");
  const [empty, setEmpty] = useState(false);
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setEmpty(!code.trim());
    if (code.trim()) applyCode.mutate({ cartId: cart.id, code: code.trim() }, { onSuccess: () => setCode("") });
  };
  const applied = cart.discount_codes[0];
  return (
    <form className="discount-code" onSubmit={onSubmit} noValidate>
      {applied ? (
        <p>
          Code <strong>{applied}</strong>{" "}
          <button type="button" className="secondary" onClick={() => removeCode.mutate({ cartId: cart.id, code: applied })}>
            Remove code
          </button>
        </p>
      ) : (
        <>
          <Field label="Discount code" value={code} onChange={(e) => setCode(e.target.value)} maxLength={64} errors={empty ? ["Enter a code."] : []} />
          <button type="submit" className="secondary" disabled={applyCode.isPending}>
            Apply
          </button>
        </>
      )}
      <ErrorMessage error={applyCode.error ?? removeCode.error} />
    </form>
  );
}

/** An empty cart, or what became of the shopper's cart when it is gone. */
export function NoCart() {
  const notice = useCartNotice();
  if (notice?.kind === "lost") {
    return (
      <div className="alert alert-error" role="alert">
        <p>
          We could not find your cart any more. Carts are kept for 7 days after their last change; nothing was ordered
          or charged. Please add the items again. <Link to="/">Browse the products</Link>.
        </p>
      </div>
    );
  }
  if (notice?.kind === "ordered") {
    return (
      <div className="alert alert-ok" role="status">
        <p>
          This cart was already ordered{notice.order ? ` as order #${notice.order}` : ""}. Check your e-mail for the
          confirmation; nothing was charged twice. <Link to="/orders">Look up an order</Link>.
        </p>
      </div>
    );
  }
  return (
    <Empty>
      Your cart is empty. <Link to="/">Browse the products</Link>.
    </Empty>
  );
}

export function CartPage() {
  const cart = useCart();
  const update = useUpdateCartLine();

  if (cart.isLoading) return <Loading label="Loading your cart…" />;
  if (cart.isError) return <ErrorMessage error={cart.error} onRetry={() => cart.refetch()} />;
  const data = cart.data;
  if (!data || data.lines.length === 0) {
    return (
      <>
        <h1>Your cart</h1>
        <NoCart />
      </>
    );
  }
  const unavailable = data.lines.some((line) => !line.available);
  return (
    <>
      <h1>Your cart</h1>
      <div className="table-wrap">
        <table>
          <caption className="visually-hidden">Items in your cart</caption>
          <thead>
            <tr>
              <th scope="col">Item</th>
              <th scope="col" className="num">Price</th>
              <th scope="col">Quantity</th>
              <th scope="col" className="num">Total</th>
            </tr>
          </thead>
          <tbody>
            {data.lines.map((line) => (
              <tr key={line.id}>
                <td>
                  <div className="cart-item">
                    {line.thumbnail_url ? (
                      <Picture renditions={line.renditions} fallback={line.thumbnail_url} alt="" sizes="64px" width={64} height={64} />
                    ) : (
                      <span className="cart-thumb-empty" aria-hidden="true" />
                    )}
                    <div>
                      <Link to={`/products/${line.product_slug}`}>{line.title}</Link>
                      {line.variant_title && <span className="muted"> — {line.variant_title}</span>}
                      {!line.available && <div className="field-error">No longer available in this quantity.</div>}
                    </div>
                  </div>
                </td>
                <td className="num">{formatMoney(money(line.unit_price))}</td>
                <td>
                  <label className="visually-hidden" htmlFor={`qty-${line.id}`}>
                    Quantity of {line.title}
                  </label>
                  <input
                    id={`qty-${line.id}`}
                    type="number"
                    min={0}
                    max={999}
                    defaultValue={line.quantity}
                    style={{ width: "5em" }}
                    onBlur={(event) => {
                      const quantity = Number(event.target.value);
                      if (Number.isInteger(quantity) && quantity !== line.quantity && quantity >= 0) {
                        update.mutate({ cartId: data.id, item: line.id, quantity });
                      }
                    }}
                  />{" "}
                  <button
                    type="button"
                    className="secondary"
                    onClick={() => update.mutate({ cartId: data.id, item: line.id, quantity: 0 })}
                    aria-label={`Remove ${line.title}`}
                  >
                    Remove
                  </button>
                </td>
                <td className="num">{formatMoney(money(line.line_total))}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row" colSpan={3}>
                Subtotal
              </th>
              <td className="num price" data-testid="subtotal">
                {formatMoney(money(data.subtotal))}
              </td>
            </tr>
          </tfoot>
        </table>
      </div>
      <DiscountCodeForm cart={data} />
      <Totals breakdown={data} />
      {!data.shipping_method && <p className="muted">Shipping is chosen at checkout.</p>}
      <ErrorMessage error={update.error} />
      <div className="actions">
        <Link to="/" className="button secondary">
          Keep shopping
        </Link>
        {unavailable ? (
          <span className="field-error">Change or remove the unavailable items to check out.</span>
        ) : (
          <Link to="/checkout" className="button">
            Check out
          </Link>
        )}
      </div>
    </>
  );
}
