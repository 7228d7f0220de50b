import { useQuery } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import { Link, useParams } from "react-router-dom";
import { unwrap } from "../../api/client";
import { ApiError } from "../../api/problems";
import { formatMoney, money } from "../../api/money";
import { ErrorMessage, Loading, Notice } from "../../shared/ui";
import { useAddToCart, useApi, useShop } from "../api";
import { Picture } from "../Picture";
import type { Image, Variant } from "../types";

/** How wide the gallery's main picture is drawn: the screen on a phone, half the page (at most 540 px) beyond. */
const GALLERY_SIZES = "(max-width: 720px) calc(100vw - 2rem), 540px";

/** The product's pictures: one large (zoomable), the others as thumbnails to pick from. */
function Gallery({ images, title }: { images: Image[]; title: string }) {
  const shown = images.filter((image) => image.url || image.thumbnail_url);
  const [index, setIndex] = useState(0);
  const [zoomed, setZoomed] = useState(false);
  const current = shown[Math.min(index, shown.length - 1)];
  if (!current) return <p className="muted gallery-empty">No pictures yet.</p>;
  const alt = (image: Image, position: number) => image.alt || `${title}, picture ${position + 1}`;
  // The page shows a stored width that fits the screen; zooming loads the original.
  const full = current.url ?? current.thumbnail_url ?? "";
  return (
    <div className="gallery">
      <button type="button" className="gallery-main" onClick={() => setZoomed(true)} aria-label={`Zoom in: ${alt(current, index)}`}>
        <Picture
          renditions={current.renditions}
          fallback={current.thumbnail_url ?? current.url}
          alt={alt(current, index)}
          sizes={GALLERY_SIZES}
          width={540}
          height={540}
          priority={index === 0}
        />
      </button>
      {shown.length > 1 && (
        <ul className="gallery-thumbs" aria-label="Pictures">
          {shown.map((image, position) => (
            <li key={image.id}>
              <button
                type="button"
                aria-pressed={position === index}
                aria-label={`Show picture ${position + 1} of ${shown.length}`}
                onClick={() => setIndex(position)}
              >
                <Picture renditions={image.renditions} fallback={image.thumbnail_url ?? image.url} alt="" sizes="72px" width={72} height={72} />
              </button>
            </li>
          ))}
        </ul>
      )}
      {zoomed && (
        <div className="zoom" role="dialog" aria-modal="true" aria-label={alt(current, index)} onClick={() => setZoomed(false)}>
          <img src={full} alt={alt(current, index)} />
          <button type="button" className="secondary" autoFocus onClick={() => setZoomed(false)}>
            Close
          </button>
        </div>
      )}
    </div>
  );
}

const SWATCH_NAMES = new Set(["color", "colour"]);

/** Whether the browser reads this option value as a CSS colour ("navy", "#003366"): then it is drawn as a swatch. */
function isColour(value: string): boolean {
  const style = new Option().style;
  style.color = value;
  return style.color !== "";
}

/** Options as buttons (colours as swatches); a radio group, so the keyboard moves through them. */
function VariantPicker({ variants, chosen, onChoose }: { variants: Variant[]; chosen?: number; onChoose: (id: number) => void }) {
  return (
    <fieldset className="variant-picker">
      <legend>Option</legend>
      {variants.map((v) => {
        const colour = Object.entries(v.options ?? {}).find(([name]) => SWATCH_NAMES.has(name.toLowerCase()))?.[1];
        const label = v.title || Object.values(v.options ?? {}).filter(Boolean).join(" / ") || v.sku;
        return (
          <label key={v.id} className={`variant${v.in_stock ? "" : " sold-out"}`}>
            <input type="radio" name="variant" value={v.id} checked={chosen === v.id} onChange={() => onChoose(v.id)} />
            {colour && isColour(colour) && <span className="swatch" style={{ background: colour }} aria-hidden="true" />}
            <span>
              {label}
              {v.in_stock ? "" : " (sold out)"}
            </span>
          </label>
        );
      })}
    </fieldset>
  );
}

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
  const shopName = useShop().data?.name;
  const title = product.data?.title;
  useEffect(() => {
    if (title && shopName) document.title = `${title} – ${shopName}`;
  }, [title, shopName]);

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
        <Gallery images={data.images} title={data.title} />
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
              <VariantPicker variants={data.variants} chosen={variant?.id} onChoose={setVariantId} />
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
          {data.attributes_shown.length > 0 && (
            // Labelled, ordered and worded by the API from the category's schema (one place for every client).
            <dl className="attributes">
              {data.attributes_shown.map((attribute) => (
                <div key={attribute.key}>
                  <dt>{attribute.label}</dt>
                  <dd>{attribute.value}</dd>
                </div>
              ))}
            </dl>
          )}
        </div>
      </div>
    </article>
  );
}
