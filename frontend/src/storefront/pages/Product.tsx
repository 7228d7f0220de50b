import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useParams } from "react-router-dom";
import { unwrap } from "../../api/client";
import { ApiError } from "../../api/problems";
import { formatMoney, money } from "../../api/money";
import { ErrorMessage, Loading, Notice } from "../../shared/ui";
import { useAddToCart, useApi } from "../api";

/** A product that is not (or no longer) on sale: trying again cannot help, browsing can. */
function ProductNotFound() {
  return (
    <>
      <h1>Product not found</h1>
      <p>This product is not in the shop, or is no longer on sale.</p>
      <p>
        <Link to="/">Browse all products</Link>
      </p>
    </>
  );
}

export function ProductPage() {
  const { slug = "" } = useParams();
  const api = useApi();
  const product = useQuery({
    queryKey: ["product", slug],
    queryFn: () => unwrap(api.GET("/api/storefront/v1/products/{slug}", { params: { path: { slug } } })),
  });
  const [variantId, setVariantId] = useState<number | null>(null);
  const [quantity, setQuantity] = useState("1");
  const add = useAddToCart();

  if (product.isPending) return <Loading label="Loading product…" />;
  if (product.isError) {
    if (product.error instanceof ApiError && product.error.status === 404) return <ProductNotFound />;
    return (
      <>
        <ErrorMessage error={product.error} onRetry={() => product.refetch()} />
        <Link to="/">Back to all products</Link>
      </>
    );
  }
  const data = product.data;
  const variant = data.variants.find((v) => v.id === variantId) ?? data.variants[0];
  const price = money(variant?.price);
  const compareAt = money(variant?.compare_at_price);
  const count = Number(quantity);
  const quantityError = Number.isInteger(count) && count >= 1 && count <= 999 ? null : "Enter a quantity from 1 to 999.";

  const onAdd = (event: FormEvent) => {
    event.preventDefault();
    if (!variant || quantityError) return;
    add.mutate({ variant: variant.id, quantity: count });
  };

  return (
    <article>
      <p>
        <Link to="/">← All products</Link>
      </p>
      <div className="product-main">
        <div>
          {data.images.length ? (
            <div className="gallery">
              {data.images.map((image, index) => (
                <img key={image.id} src={image.url ?? image.thumbnail_url ?? ""} alt={image.alt || `${data.title}, picture ${index + 1}`} />
              ))}
            </div>
          ) : (
            <p className="muted">No pictures yet.</p>
          )}
        </div>
        <div>
          <h1>{data.title}</h1>
          {data.category && <p className="muted">{data.category.name}</p>}
          <p className="price">
            {formatMoney(price)}
            {compareAt && <s aria-label={`was ${formatMoney(compareAt)}`}>{formatMoney(compareAt)}</s>}
          </p>
          <p>
            <span className={`badge ${variant?.in_stock ? "ok" : "warn"}`}>{variant?.in_stock ? "In stock" : "Out of stock"}</span>
          </p>
          <form onSubmit={onAdd} className="narrow">
            {data.variants.length > 1 && (
              <div className="field">
                <label htmlFor="variant">Option</label>
                <select id="variant" value={variant?.id} onChange={(event) => setVariantId(Number(event.target.value))}>
                  {data.variants.map((v) => (
                    <option key={v.id} value={v.id}>
                      {v.title || v.sku} — {formatMoney(money(v.price))}
                      {v.in_stock ? "" : " (out of stock)"}
                    </option>
                  ))}
                </select>
              </div>
            )}
            <div className="field">
              <label htmlFor="quantity">Quantity</label>
              <input
                id="quantity"
                type="number"
                inputMode="numeric"
                min={1}
                max={999}
                value={quantity}
                onChange={(event) => setQuantity(event.target.value)}
                aria-invalid={quantityError ? true : undefined}
                aria-describedby={quantityError ? "quantity-error" : undefined}
              />
              {quantityError && (
                <small id="quantity-error" className="field-error">
                  {quantityError}
                </small>
              )}
            </div>
            <button type="submit" disabled={!variant?.in_stock || add.isPending || quantityError !== null}>
              {variant?.in_stock ? (add.isPending ? "Adding…" : "Add to cart") : "Out of stock"}
            </button>
          </form>
          <ErrorMessage error={add.error} />
          {add.isSuccess && (
            <Notice>
              Added to your cart. <Link to="/cart">View cart</Link>
            </Notice>
          )}
          {data.description && <p>{data.description}</p>}
          {Object.keys(data.attributes ?? {}).length > 0 && (
            <dl>
              {Object.entries(data.attributes).map(([name, value]) => (
                <div key={name}>
                  <dt>{name}</dt>
                  <dd>{String(value)}</dd>
                </div>
              ))}
            </dl>
          )}
        </div>
      </div>
    </article>
  );
}
