import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { lazy, Suspense, useRef, useState, type FormEvent } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router-dom";
import { absoluteUrl, newIdempotencyKey, shopOrigin, unwrap } from "../../api/client";
import { formatMoney, money, parseAmount } from "../../api/money";
import { Empty, ErrorMessage, Field, Loading, mergeErrors, Notice, SelectField, type FieldErrors } from "../../shared/ui";
import { useCursorList, useShopApi } from "../session";
import type { Product, Variant } from "../types";
import { sendUpload } from "../upload";
// react-jsonschema-form and its validator load with the first product form, not with the admin app.
const ProductAttributesForm = lazy(() => import("./ProductAttributes"));

const STATUSES = ["draft", "active", "archived"] as const;
type Status = (typeof STATUSES)[number];

export function ProductsPage() {
  const { api, slug } = useShopApi();
  const [params, setParams] = useSearchParams();
  const [q, setQ] = useState(params.get("q") ?? "");
  const status = params.get("status") ?? "";
  const list = useCursorList(["admin-products", slug, params.get("q"), status], (cursor) =>
    unwrap(
      api.GET("/api/admin/v1/products", {
        params: { query: { q: params.get("q") || undefined, status: (status || undefined) as Status | undefined, cursor } },
      }),
    ),
  );
  const onSearch = (event: FormEvent) => {
    event.preventDefault();
    const next = new URLSearchParams(params);
    if (q.trim()) next.set("q", q.trim());
    else next.delete("q");
    setParams(next);
  };
  return (
    <>
      <div className="actions">
        <h1>Products</h1>
        <Link className="button" to="new">
          New product
        </Link>
      </div>
      <form role="search" className="actions" onSubmit={onSearch}>
        <label htmlFor="product-search" className="visually-hidden">
          Search products
        </label>
        <input id="product-search" type="search" placeholder="Title or SKU" value={q} onChange={(e) => setQ(e.target.value)} />
        <button type="submit">Search</button>
        <label htmlFor="status-filter">Status</label>
        <select
          id="status-filter"
          value={status}
          onChange={(e) => {
            const next = new URLSearchParams(params);
            if (e.target.value) next.set("status", e.target.value);
            else next.delete("status");
            setParams(next);
          }}
        >
          <option value="">Any</option>
          {STATUSES.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
      </form>
      {list.isPending && <Loading />}
      <ErrorMessage error={list.error} onRetry={() => list.refetch()} />
      {list.isSuccess && list.items.length === 0 && <Empty>No products yet. Create your first one.</Empty>}
      {list.items.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Title</th>
                <th scope="col">Status</th>
                <th scope="col">Variants</th>
                <th scope="col" className="num">Stock</th>
                <th scope="col" className="num">Price</th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((product) => (
                <tr key={product.id}>
                  <td>
                    <Link to={String(product.id)}>{product.title}</Link>
                  </td>
                  <td>
                    <span className="badge">{product.status}</span>
                  </td>
                  <td>{product.variants.map((v) => v.sku).join(", ")}</td>
                  <td className="num">{product.variants.reduce((sum, v) => sum + v.stock, 0)}</td>
                  <td className="num">{formatMoney(money(product.variants[0]?.price))}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.hasNextPage && (
        <button type="button" className="secondary" onClick={() => list.fetchNextPage()} disabled={list.isFetchingNextPage}>
          Load more
        </button>
      )}
    </>
  );
}

function useCategories() {
  const { api, slug } = useShopApi();
  return useQuery({
    queryKey: ["admin-categories", slug],
    queryFn: () => unwrap(api.GET("/api/admin/v1/categories", { params: { query: { limit: 100 } } })),
  });
}

interface ProductFields {
  title: string;
  description: string;
  status: Status;
  category: string;
  attributes: Record<string, unknown>;
}

function ProductFieldset({ fields, set, errors }: { fields: ProductFields; set: (f: Partial<ProductFields>) => void; errors: FieldErrors }) {
  const categories = useCategories();
  const category = categories.data?.results.find((c) => String(c.id) === fields.category);
  return (
    <fieldset>
      <legend>Product</legend>
      <Field label="Title" value={fields.title} onChange={(e) => set({ title: e.target.value })} errors={errors.title} />
      <div className="field">
        <label htmlFor="description">Description</label>
        <textarea id="description" rows={4} value={fields.description} onChange={(e) => set({ description: e.target.value })} />
      </div>
      <div className="form-grid">
        <SelectField label="Status" value={fields.status} onChange={(e) => set({ status: e.target.value as Status })} errors={errors.status}>
          {STATUSES.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </SelectField>
        <SelectField label="Category" value={fields.category} onChange={(e) => set({ category: e.target.value })} errors={errors.category}>
          <option value="">None</option>
          {categories.data?.results.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name}
            </option>
          ))}
        </SelectField>
      </div>
      <div className="field">
        <span id="attributes-label">Attributes{category ? ` (${category.name})` : ""}</span>
        <div role="group" aria-labelledby="attributes-label">
          <Suspense fallback={<Loading label="Loading the attribute form…" />}>
            <ProductAttributesForm
              key={fields.category}
              schema={category?.attribute_schema}
              value={fields.attributes}
              onChange={(attributes) => set({ attributes })}
            />
          </Suspense>
        </div>
        {errors.attributes && <small className="field-error">{errors.attributes.join(" ")}</small>}
      </div>
    </fieldset>
  );
}

interface VariantRow {
  sku: string;
  title: string;
  price: string;
  compare_at_price: string;
  stock: string;
  low_stock_threshold: string;
}

const EMPTY_VARIANT: VariantRow = { sku: "", title: "", price: "", compare_at_price: "", stock: "0", low_stock_threshold: "5" };

export function validateVariant(row: VariantRow): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!row.sku.trim()) errors.sku = "SKU is required.";
  if (parseAmount(row.price) === null) errors.price = "Price like 19.99.";
  if (row.compare_at_price.trim() && parseAmount(row.compare_at_price) === null) errors.compare_at_price = "Price like 24.99.";
  if (!/^\d+$/.test(row.stock.trim())) errors.stock = "A whole number.";
  if (!/^\d+$/.test(row.low_stock_threshold.trim())) errors.low_stock_threshold = "A whole number.";
  return errors;
}

function variantBody(row: VariantRow) {
  return {
    sku: row.sku.trim(),
    title: row.title.trim(),
    price: parseAmount(row.price) ?? row.price,
    compare_at_price: row.compare_at_price.trim() ? (parseAmount(row.compare_at_price) ?? row.compare_at_price) : null,
    stock: Number(row.stock),
    low_stock_threshold: Number(row.low_stock_threshold),
  };
}

function VariantInputs({ row, set, errors, index }: { row: VariantRow; set: (r: VariantRow) => void; errors: Record<string, string>; index: number }) {
  const field = (name: keyof VariantRow, label: string, extra: object = {}) => (
    <Field
      label={label}
      id={`variant-${index}-${name}`}
      value={row[name]}
      onChange={(e) => set({ ...row, [name]: e.target.value })}
      errors={errors[name] ? [errors[name]] : []}
      {...extra}
    />
  );
  return (
    <div className="form-grid">
      {field("sku", "SKU")}
      {field("title", "Variant title", { placeholder: "e.g. Large / Blue" })}
      {field("price", "Price", { inputMode: "decimal" })}
      {field("compare_at_price", "Compare-at price", { inputMode: "decimal" })}
      {field("stock", "Stock", { inputMode: "numeric" })}
      {field("low_stock_threshold", "Low-stock threshold", { inputMode: "numeric" })}
    </div>
  );
}

export function NewProductPage() {
  const { api, slug } = useShopApi();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [fields, setFields] = useState<ProductFields>({ title: "", description: "", status: "active", category: "", attributes: {} });
  const [variants, setVariants] = useState<VariantRow[]>([{ ...EMPTY_VARIANT }]);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [variantErrors, setVariantErrors] = useState<Record<string, string>[]>([]);
  // One key per form: a double submit or a retry after a network error creates one product.
  const idempotencyKey = useRef(newIdempotencyKey());
  const create = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/admin/v1/products", {
          params: { header: { "Idempotency-Key": idempotencyKey.current } },
          body: {
            title: fields.title.trim(),
            description: fields.description,
            status: fields.status,
            category: fields.category ? Number(fields.category) : null,
            attributes: fields.attributes,
            variants: variants.map(variantBody),
          },
        }),
      ),
    onSuccess: (product) => {
      queryClient.invalidateQueries({ queryKey: ["admin-products", slug] });
      navigate(`../${product.id}`, { relative: "path", state: { created: true } });
    },
    onError: () => {
      idempotencyKey.current = newIdempotencyKey();
    },
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const found: FieldErrors = {};
    if (!fields.title.trim()) found.title = ["Give the product a title."];
    const perVariant = variants.map(validateVariant);
    setErrors(found);
    setVariantErrors(perVariant);
    if (!Object.keys(found).length && perVariant.every((e) => !Object.keys(e).length)) create.mutate();
  };
  const all = mergeErrors(errors, create.error);
  return (
    <>
      <h1>New product</h1>
      <form onSubmit={onSubmit} noValidate>
        <ProductFieldset fields={fields} set={(f) => setFields({ ...fields, ...f })} errors={all} />
        {variants.map((row, index) => (
          <fieldset key={index}>
            <legend>Variant {index + 1}</legend>
            <VariantInputs
              index={index}
              row={row}
              errors={variantErrors[index] ?? {}}
              set={(next) => setVariants(variants.map((v, i) => (i === index ? next : v)))}
            />
            {variants.length > 1 && (
              <button type="button" className="secondary" onClick={() => setVariants(variants.filter((_, i) => i !== index))}>
                Remove variant {index + 1}
              </button>
            )}
          </fieldset>
        ))}
        <div className="actions">
          <button type="button" className="secondary" onClick={() => setVariants([...variants, { ...EMPTY_VARIANT }])}>
            Add a variant
          </button>
        </div>
        <ErrorMessage error={create.error} />
        <button type="submit" disabled={create.isPending}>
          {create.isPending ? "Saving…" : "Create product"}
        </button>
      </form>
    </>
  );
}

function toRow(variant: Variant): VariantRow {
  return {
    sku: variant.sku,
    title: variant.title,
    price: money(variant.price)?.amount ?? "",
    compare_at_price: money(variant.compare_at_price)?.amount ?? "",
    stock: String(variant.stock),
    low_stock_threshold: String(variant.low_stock_threshold),
  };
}

function VariantEditor({ product, variant, index }: { product: Product; variant: Variant | null; index: number }) {
  const { api, slug } = useShopApi();
  const queryClient = useQueryClient();
  const [row, setRow] = useState<VariantRow>(variant ? toRow(variant) : { ...EMPTY_VARIANT });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["admin-product", slug, product.id] });
  const save = useMutation({
    mutationFn: () =>
      variant
        ? unwrap(
            api.PATCH("/api/admin/v1/products/{product_id}/variants/{variant_id}", {
              params: { path: { product_id: product.id, variant_id: variant.id } },
              body: variantBody(row),
            }),
          )
        : unwrap(
            api.POST("/api/admin/v1/products/{product_id}/variants", {
              params: { path: { product_id: product.id } },
              body: variantBody(row),
            }),
          ),
    onSuccess: () => {
      if (!variant) setRow({ ...EMPTY_VARIANT });
      refresh();
    },
  });
  const remove = useMutation({
    mutationFn: () =>
      unwrap(
        api.DELETE("/api/admin/v1/products/{product_id}/variants/{variant_id}", {
          params: { path: { product_id: product.id, variant_id: variant!.id } },
        }),
      ),
    onSuccess: refresh,
  });
  const serverErrors = (save.error as { problem?: { errors?: Record<string, string[]> } } | null)?.problem?.errors ?? {};
  const shown = { ...Object.fromEntries(Object.entries(serverErrors).map(([k, v]) => [k, v.join(" ")])), ...errors };
  return (
    <form
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        const found = validateVariant(row);
        setErrors(found);
        if (!Object.keys(found).length) save.mutate();
      }}
    >
      <fieldset>
        <legend>{variant ? `Variant ${variant.sku}` : "Add a variant"}</legend>
        <VariantInputs index={index} row={row} set={setRow} errors={shown} />
        <ErrorMessage error={save.error ?? remove.error} />
        {save.isSuccess && <Notice>Saved.</Notice>}
        <div className="actions">
          <button type="submit" disabled={save.isPending}>
            {variant ? "Save variant" : "Add variant"}
          </button>
          {variant && product.variants.length > 1 && (
            <button type="button" className="danger" onClick={() => remove.mutate()} disabled={remove.isPending}>
              Delete variant
            </button>
          )}
        </div>
      </fieldset>
    </form>
  );
}

function ImageUploader({ product }: { product: Product }) {
  const { api, slug, domain } = useShopApi();
  const queryClient = useQueryClient();
  const [progress, setProgress] = useState<number | null>(null);
  const [alt, setAlt] = useState("");
  const inputRef = useRef<HTMLInputElement>(null);
  const origin = shopOrigin(domain);
  const upload = useMutation({
    mutationFn: async (file: File) => {
      setProgress(0);
      const image = await unwrap(
        api.POST("/api/admin/v1/products/{product_id}/images", {
          params: { path: { product_id: product.id } },
          body: { filename: file.name, content_type: file.type || "application/octet-stream", size: file.size, alt },
        }),
      );
      await sendUpload(image.upload, file, origin, setProgress);
      return unwrap(
        api.POST("/api/admin/v1/products/{product_id}/images/{image_id}/confirm", {
          params: { path: { product_id: product.id, image_id: image.id } },
        }),
      );
    },
    onSettled: () => {
      setProgress(null);
      if (inputRef.current) inputRef.current.value = "";
      setAlt("");
      queryClient.invalidateQueries({ queryKey: ["admin-product", slug, product.id] });
    },
  });
  const remove = useMutation({
    mutationFn: (imageId: number) =>
      unwrap(
        api.DELETE("/api/admin/v1/products/{product_id}/images/{image_id}", {
          params: { path: { product_id: product.id, image_id: imageId } },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["admin-product", slug, product.id] }),
  });
  return (
    <section aria-labelledby="images-heading">
      <h2 id="images-heading">Images</h2>
      {product.images.length === 0 && <Empty>No images yet.</Empty>}
      <ul className="gallery" style={{ listStyle: "none", padding: 0 }}>
        {product.images.map((image) => (
          <li key={image.id}>
            {image.url ? <img src={absoluteUrl(image.thumbnail_url ?? image.url, origin)} alt={image.alt || product.title} /> : <span>{image.status}</span>}
            <br />
            <button type="button" className="secondary" onClick={() => remove.mutate(image.id)}>
              Delete image
            </button>
          </li>
        ))}
      </ul>
      <div className="form-grid">
        <Field label="Alt text for the next image" value={alt} onChange={(e) => setAlt(e.target.value)} />
        <div className="field">
          <label htmlFor="image-file">Upload an image</label>
          <input
            id="image-file"
            ref={inputRef}
            type="file"
            accept="image/jpeg,image/png,image/webp,image/gif"
            disabled={upload.isPending}
            onChange={(e) => {
              const file = e.target.files?.[0];
              if (file) upload.mutate(file);
            }}
          />
        </div>
      </div>
      {progress !== null && (
        <div>
          <label htmlFor="upload-progress">Uploading</label>
          <progress id="upload-progress" max={1} value={progress}>
            {Math.round(progress * 100)}%
          </progress>
        </div>
      )}
      <ErrorMessage error={upload.error ?? remove.error} />
      {upload.isSuccess && <Notice>Image uploaded.</Notice>}
    </section>
  );
}

export function EditProductPage() {
  const { api, slug } = useShopApi();
  const { productId = "" } = useParams();
  const id = Number(productId);
  const queryClient = useQueryClient();
  const product = useQuery({
    queryKey: ["admin-product", slug, id],
    queryFn: () => unwrap(api.GET("/api/admin/v1/products/{product_id}", { params: { path: { product_id: id } } })),
  });
  // The editor starts afresh from each new version of the product (its key), so the
  // "saved" notice is remembered here, for the version the save answered.
  const [savedVersion, setSavedVersion] = useState<string | null>(null);
  if (product.isPending) return <Loading />;
  if (product.isError) return <ErrorMessage error={product.error} onRetry={() => product.refetch()} />;
  return (
    <ProductEditor
      key={product.data.updated_at}
      product={product.data}
      saved={savedVersion === product.data.updated_at}
      onSaved={(updated) => {
        if (updated) setSavedVersion(updated.updated_at);
        void queryClient.invalidateQueries({ queryKey: ["admin-products", slug] });
      }}
    />
  );
}

function ProductEditor({ product, saved, onSaved }: { product: Product; saved: boolean; onSaved: (updated?: Product) => void }) {
  const { api, slug } = useShopApi();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [fields, setFields] = useState<ProductFields>({
    title: product.title,
    description: product.description,
    status: product.status,
    category: product.category ? String(product.category.id) : "",
    attributes: (product.attributes ?? {}) as Record<string, unknown>,
  });
  const [errors, setErrors] = useState<FieldErrors>({});
  const save = useMutation({
    mutationFn: () =>
      unwrap(
        api.PATCH("/api/admin/v1/products/{product_id}", {
          params: { path: { product_id: product.id } },
          body: {
            title: fields.title.trim(),
            description: fields.description,
            status: fields.status,
            category: fields.category ? Number(fields.category) : null,
            attributes: fields.attributes,
          },
        }),
      ),
    onSuccess: (updated) => {
      onSaved(updated);
      queryClient.setQueryData(["admin-product", slug, product.id], updated);
    },
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/admin/v1/products/{product_id}", { params: { path: { product_id: product.id } } })),
    onSuccess: () => {
      onSaved();
      navigate("..", { relative: "path" });
    },
  });
  const all = mergeErrors(errors, save.error);
  return (
    <>
      <p>
        <Link to=".." relative="path">
          ← Products
        </Link>
      </p>
      <h1>{product.title}</h1>
      <form
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          const found: FieldErrors = {};
          if (!fields.title.trim()) found.title = ["Give the product a title."];
                setErrors(found);
          if (!Object.keys(found).length) save.mutate();
        }}
      >
        <ProductFieldset fields={fields} set={(f) => setFields({ ...fields, ...f })} errors={all} />
        <ErrorMessage error={save.error} />
        {(save.isSuccess || saved) && <Notice>Product saved.</Notice>}
        <div className="actions">
          <button type="submit" disabled={save.isPending}>
            Save product
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
        <ErrorMessage error={remove.error} />
      </form>
      <ImageUploader product={product} />
      <section aria-labelledby="variants-heading">
        <h2 id="variants-heading">Variants</h2>
        {product.variants.map((variant, index) => (
          <VariantEditor key={`${variant.id}-${variant.stock}-${money(variant.price)?.amount}`} product={product} variant={variant} index={index} />
        ))}
        <VariantEditor product={product} variant={null} index={product.variants.length} />
      </section>
    </>
  );
}
