import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { shopOrigin, unwrap } from "../../../api/client";
import { money } from "../../../api/money";
import { ErrorMessage, Loading, mergeErrors, type FieldErrors } from "../../../shared/ui";
import { queryKeys } from "../../queryKeys";
import { useShopApi } from "../../session";
import type { Product } from "../../types";
import { Icon } from "../../ui/Icon";
import { useToast } from "../../ui/toast";
import { ImageManager } from "./ImageManager";
import { ProductFieldset } from "./ProductFieldset";
import { PriceHistorySection } from "./PriceHistoryChart";
import { PRODUCT_FORM_FIELDS, productBody, validateProduct, type ProductFields } from "./productForm";
import { VariantEditor } from "./VariantEditor";

export function EditProductPage() {
  const { api, slug } = useShopApi();
  const { productId = "" } = useParams();
  const id = Number(productId);
  const product = useQuery({
    queryKey: queryKeys.shop(slug).product(id),
    queryFn: () => unwrap(api.GET("/api/admin/v1/products/{product_id}", { params: { path: { product_id: id } } })),
  });
  if (product.isPending) return <Loading />;
  if (product.isError) return <ErrorMessage error={product.error} onRetry={() => product.refetch()} />;
  return <ProductEditor key={product.data.updated_at} product={product.data} />;
}

/** Where shoppers see the product: its page on the shop's storefront (active products only). */
export function storefrontProductUrl(domain: string, product: Pick<Product, "slug">): string {
  return `${shopOrigin(domain)}/products/${encodeURIComponent(product.slug)}`;
}

function ProductEditor({ product }: { product: Product }) {
  const { api, slug, domain } = useShopApi();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const toast = useToast();
  const keys = queryKeys.shop(slug);
  const [fields, setFields] = useState<ProductFields>({
    title: product.title,
    description: product.description,
    status: product.status,
    category: product.category ? String(product.category.id) : "",
    attributes: (product.attributes ?? {}) as Record<string, unknown>,
    vendor: product.vendor,
    tags: product.tags.join(", "),
  });
  const [errors, setErrors] = useState<FieldErrors>({});
  const save = useMutation({
    mutationFn: () =>
      unwrap(api.PATCH("/api/admin/v1/products/{product_id}", { params: { path: { product_id: product.id } }, body: productBody(fields) })),
    onSuccess: (updated) => {
      // The toast outlives the editor, which is remounted for the saved product.
      toast.success("Product saved.");
      queryClient.setQueryData(keys.product(product.id), updated);
      void queryClient.invalidateQueries({ queryKey: keys.products() });
    },
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/admin/v1/products/{product_id}", { params: { path: { product_id: product.id } } })),
    onSuccess: () => {
      toast.success(`“${product.title}” deleted.`);
      void queryClient.invalidateQueries({ queryKey: keys.products() });
      navigate("..", { relative: "path" });
    },
    onError: (error) => toast.error(error),
  });
  const all = mergeErrors(errors, save.error);
  return (
    <>
      <p>
        <Link to=".." relative="path">
          ← Products
        </Link>
      </p>
      <div className="title-row">
        <h1>{product.title}</h1>
        {product.status === "active" ? (
          <a href={storefrontProductUrl(domain, product)} target="_blank" rel="noreferrer" className="button secondary">
            <Icon name="external" size={16} /> View on storefront<span className="visually-hidden"> (opens in a new tab)</span>
          </a>
        ) : (
          <span className="muted">Not on the storefront while {product.status}.</span>
        )}
      </div>
      <form
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          const found = validateProduct(fields);
          setErrors(found);
          if (!Object.keys(found).length) save.mutate();
        }}
      >
        <ProductFieldset fields={fields} set={(f) => setFields({ ...fields, ...f })} errors={all} />
        <ErrorMessage error={save.error} fieldsShown={PRODUCT_FORM_FIELDS} />
        <div className="actions">
          <button type="submit" disabled={save.isPending}>
            {save.isPending ? "Saving…" : "Save product"}
          </button>
          <button
            type="button"
            className="danger"
            onClick={() => {
              if (window.confirm(`Delete “${product.title}”? This cannot be undone.`)) remove.mutate();
            }}
          >
            Delete product
          </button>
        </div>
      </form>
      <ImageManager product={product} />
      <section aria-labelledby="variants-heading">
        <h2 id="variants-heading">Variants</h2>
        {product.variants.map((variant, index) => (
          <VariantEditor key={`${variant.id}-${variant.stock}-${money(variant.price)?.amount}`} product={product} variant={variant} index={index} />
        ))}
        <VariantEditor product={product} variant={null} index={product.variants.length} />
      </section>
      <PriceHistorySection product={product} />
    </>
  );
}
