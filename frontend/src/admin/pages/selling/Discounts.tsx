import { useMutation, useQueries, useQuery, useQueryClient } from "@tanstack/react-query";
import { useDeferredValue, useState, type FormEvent } from "react";
import { unwrap } from "../../../api/client";
import type { components } from "../../../api/generated/shop";
import { formatMoney, money, parseAmount } from "../../../api/money";
import { Empty, ErrorMessage, Field, Loading, mergeErrors, SelectField, type FieldErrors } from "../../../shared/ui";
import { queryKeys } from "../../queryKeys";
import { useCursorList, useShopApi } from "../../session";
import { CheckboxGroup } from "../../ui/CheckboxGroup";
import { LoadMore } from "../../ui/LoadMore";
import { useToast } from "../../ui/toast";
import { categoryTree, useCategoryList } from "../Categories";

type S = components["schemas"];
type Discount = S["DiscountOutput"];
type DiscountBody = S["DiscountInputRequest"];
type Kind = DiscountBody["kind"];
export type Scope = "order" | "categories" | "products";

export type DiscountDraft = {
  code: string;
  kind: Kind;
  value: string;
  scope: Scope;
  categories: number[];
  products: number[];
  minSubtotal: string;
  startsAt: string;
  endsAt: string;
  usageLimit: string;
  perCustomer: string;
  active: boolean;
};

/** An ISO moment as a datetime-local input shows it (the browser's time zone), or "". */
export function localInput(iso: string | null): string {
  if (!iso) return "";
  const date = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export function discountDraft(discount?: Discount): DiscountDraft {
  if (!discount) {
    return { code: "", kind: "percentage", value: "", scope: "order", categories: [], products: [], minSubtotal: "", startsAt: "", endsAt: "", usageLimit: "", perCustomer: "", active: true };
  }
  const { products, categories } = discount.applies_to;
  return {
    code: discount.code ?? "",
    kind: discount.kind,
    value: discount.value ?? "",
    scope: products.length ? "products" : categories.length ? "categories" : "order",
    categories: [...categories],
    products: [...products],
    minSubtotal: money(discount.min_subtotal)?.amount ?? "",
    startsAt: localInput(discount.starts_at),
    endsAt: localInput(discount.ends_at),
    usageLimit: discount.usage_limit === null ? "" : String(discount.usage_limit),
    perCustomer: discount.usage_limit_per_customer === null ? "" : String(discount.usage_limit_per_customer),
    active: discount.active,
  };
}

/** The API body of a drafted discount (the same for create and change), or its mistakes by API field name. */
export function discountBody(draft: DiscountDraft): { body: DiscountBody | null; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const code = draft.code.trim();
  if (code && !/^[A-Za-z0-9_-]{1,64}$/.test(code)) errors.code = ["Letters, digits, - and _ only, 64 at most."];
  const value = draft.kind === "free_shipping" ? null : parseAmount(draft.value);
  if (draft.kind !== "free_shipping" && (value === null || Number(value) <= 0)) errors.value = ["An amount above 0, e.g. 10."];
  else if (draft.kind === "percentage" && Number(value) > 100) errors.value = ["A percentage is at most 100."];
  if (draft.scope === "categories" && draft.categories.length === 0) errors["applies_to.categories"] = ["Pick at least one category."];
  if (draft.scope === "products" && draft.products.length === 0) errors["applies_to.products"] = ["Pick at least one product."];
  const minimum = draft.minSubtotal.trim() ? parseAmount(draft.minSubtotal) : null;
  if (draft.minSubtotal.trim() && minimum === null) errors.min_subtotal = ["An amount like 50.00."];
  const limits: Record<string, number | null> = {};
  for (const [name, text] of [["usage_limit", draft.usageLimit], ["usage_limit_per_customer", draft.perCustomer]] as const) {
    limits[name] = text.trim() ? Number(text.trim()) : null;
    if (text.trim() && !/^[1-9]\d{0,8}$/.test(text.trim())) errors[name] = ["A whole number from 1."];
  }
  const moment = (text: string) => (text ? new Date(text) : null);
  const [starts, ends] = [moment(draft.startsAt), moment(draft.endsAt)];
  if (starts && Number.isNaN(starts.getTime())) errors.starts_at = ["A date and time."];
  if (ends && Number.isNaN(ends.getTime())) errors.ends_at = ["A date and time."];
  else if (starts && ends && ends <= starts) errors.ends_at = ["After the start."];
  if (Object.keys(errors).length) return { body: null, errors };
  return {
    body: {
      code: code || null,
      kind: draft.kind,
      value,
      applies_to: {
        categories: draft.scope === "categories" ? draft.categories : [],
        products: draft.scope === "products" ? draft.products : [],
      },
      min_subtotal: minimum,
      starts_at: starts?.toISOString() ?? null,
      ends_at: ends?.toISOString() ?? null,
      usage_limit: limits.usage_limit,
      usage_limit_per_customer: limits.usage_limit_per_customer,
      active: draft.active,
    },
    errors,
  };
}

function valueText(discount: Discount): string {
  if (discount.kind === "percentage") return `${discount.value}% off`;
  if (discount.kind === "fixed") return `${discount.value} off`;
  return "Free shipping";
}

function scopeText(discount: Discount): string {
  const { products, categories } = discount.applies_to;
  if (products.length) return `${products.length} product${products.length === 1 ? "" : "s"}`;
  if (categories.length) return `${categories.length} categor${categories.length === 1 ? "y" : "ies"}`;
  return "Whole order";
}

function whenText(discount: Discount): string {
  const day = (iso: string) => new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  if (discount.starts_at && discount.ends_at) return `${day(discount.starts_at)} – ${day(discount.ends_at)}`;
  if (discount.starts_at) return `from ${day(discount.starts_at)}`;
  if (discount.ends_at) return `until ${day(discount.ends_at)}`;
  return "always";
}

const nameOf = (discount: Discount) => discount.code ?? `automatic ${valueText(discount).toLowerCase()}`;

export function DiscountsPage() {
  const { api, slug } = useShopApi();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [editing, setEditing] = useState<Discount | null>(null);
  const list = useCursorList(queryKeys.shop(slug).discounts(), (cursor) =>
    unwrap(api.GET("/api/admin/v1/discounts", { params: { query: { cursor, limit: 50 } } })),
  );
  const refresh = () => queryClient.invalidateQueries({ queryKey: queryKeys.shop(slug).discounts() });
  const remove = useMutation({
    mutationFn: (discount: Discount) =>
      unwrap(api.DELETE("/api/admin/v1/discounts/{discount_id}", { params: { path: { discount_id: discount.id } } })),
    onSuccess: (_, discount) => {
      refresh();
      toast.success(`Discount ${nameOf(discount)} deleted.`);
    },
    onError: (error) => toast.error(error),
  });
  const toggle = useMutation({
    mutationFn: (discount: Discount) =>
      unwrap(api.PATCH("/api/admin/v1/discounts/{discount_id}", { params: { path: { discount_id: discount.id } }, body: { active: !discount.active } })),
    onSuccess: (saved) => {
      refresh();
      toast.success(`Discount ${nameOf(saved)} ${saved.active ? "activated" : "deactivated"}.`);
    },
    onError: (error) => toast.error(error),
  });
  return (
    <>
      <h1>Discounts</h1>
      <p className="muted">A cart takes one code plus every automatic promotion (no code) that applies; discounts apply before tax.</p>
      {list.isPending && <Loading />}
      <ErrorMessage error={list.error} onRetry={() => list.refetch()} />
      {!list.isPending && !list.error && list.items.length === 0 && <Empty>No discounts yet.</Empty>}
      {list.items.length > 0 && (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Discounts">
          <table>
            <thead>
              <tr>
                <th scope="col">Code</th>
                <th scope="col">Discount</th>
                <th scope="col">Applies to</th>
                <th scope="col">Minimum</th>
                <th scope="col">When</th>
                <th scope="col" className="num">Used</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((discount) => (
                <tr key={discount.id}>
                  <td>{discount.code ?? <span className="muted">automatic</span>}</td>
                  <td>{valueText(discount)}</td>
                  <td>{scopeText(discount)}</td>
                  <td>{discount.min_subtotal ? formatMoney(money(discount.min_subtotal)) : "—"}</td>
                  <td>{whenText(discount)}</td>
                  <td className="num">
                    {discount.times_used}
                    {discount.usage_limit !== null && ` of ${discount.usage_limit}`}
                    {discount.usage_limit_per_customer !== null && <span className="muted"> ({discount.usage_limit_per_customer} per customer)</span>}
                  </td>
                  <td>
                    <span className={`badge ${discount.active ? "ok" : ""}`}>{discount.active ? "active" : "inactive"}</span>
                  </td>
                  <td>
                    <div className="actions">
                      <button type="button" className="secondary" onClick={() => setEditing(discount)} aria-label={`Edit ${nameOf(discount)}`}>
                        Edit
                      </button>
                      <button type="button" className="secondary" onClick={() => toggle.mutate(discount)} disabled={toggle.isPending} aria-label={`${discount.active ? "Deactivate" : "Activate"} ${nameOf(discount)}`}>
                        {discount.active ? "Deactivate" : "Activate"}
                      </button>
                      <button
                        type="button"
                        className="danger"
                        aria-label={`Delete ${nameOf(discount)}`}
                        onClick={() => window.confirm(`Delete ${nameOf(discount)}? Orders keep what it took off.`) && remove.mutate(discount)}
                      >
                        Delete
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <LoadMore list={list} />
      {editing ? (
        <section aria-label={`Edit ${nameOf(editing)}`}>
          <h2>Edit {nameOf(editing)}</h2>
          <DiscountForm key={editing.id} discount={editing} onDone={() => setEditing(null)} />
        </section>
      ) : (
        <>
          <h2>New discount</h2>
          <DiscountForm />
        </>
      )}
    </>
  );
}

function DiscountForm({ discount, onDone }: { discount?: Discount; onDone?: () => void }) {
  const { api, slug } = useShopApi();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [draft, setDraft] = useState<DiscountDraft>(() => discountDraft(discount));
  const [errors, setErrors] = useState<FieldErrors>({});
  const save = useMutation({
    mutationFn: (body: DiscountBody) =>
      discount
        ? unwrap(api.PATCH("/api/admin/v1/discounts/{discount_id}", { params: { path: { discount_id: discount.id } }, body }))
        : unwrap(api.POST("/api/admin/v1/discounts", { body })),
    onSuccess: (saved) => {
      queryClient.invalidateQueries({ queryKey: queryKeys.shop(slug).discounts() });
      toast.success(`Discount ${nameOf(saved)} saved.`);
      if (discount) onDone?.();
      else setDraft(discountDraft());
    },
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const { body, errors: found } = discountBody(draft);
    setErrors(found);
    if (body) save.mutate(body);
  };
  const all = mergeErrors(errors, save.error);
  const set = (change: Partial<DiscountDraft>) => setDraft((d) => ({ ...d, ...change }));
  const shown = ["code", "value", "applies_to.categories", "applies_to.products", "min_subtotal", "starts_at", "ends_at", "usage_limit", "usage_limit_per_customer"];
  return (
    <form className="narrow" onSubmit={onSubmit} noValidate>
      <Field label="Code" value={draft.code} onChange={(e) => set({ code: e.target.value })} errors={all.code} hint="Leave empty for an automatic promotion." />
      <SelectField label="Kind" value={draft.kind} onChange={(e) => set({ kind: e.target.value as Kind })}>
        <option value="percentage">Percentage off</option>
        <option value="fixed">Fixed amount off</option>
        <option value="free_shipping">Free shipping</option>
      </SelectField>
      {draft.kind !== "free_shipping" && (
        <Field label={draft.kind === "percentage" ? "Percent" : "Amount"} inputMode="decimal" value={draft.value} onChange={(e) => set({ value: e.target.value })} errors={all.value} />
      )}
      <fieldset>
        <legend>Applies to</legend>
        {(
          [
            ["order", "The whole order"],
            ["categories", "Products in some categories"],
            ["products", "Some products"],
          ] as const
        ).map(([scope, label]) => (
          <label key={scope} className="checkbox">
            <input type="radio" name={`scope-${discount?.id ?? "new"}`} checked={draft.scope === scope} onChange={() => set({ scope })} />
            {label}
          </label>
        ))}
        {draft.scope === "categories" && <CategoryPicker selected={draft.categories} onChange={(categories) => set({ categories })} errors={all["applies_to.categories"]} />}
        {draft.scope === "products" && <ProductPicker selected={draft.products} onChange={(products) => set({ products })} errors={all["applies_to.products"]} />}
      </fieldset>
      <Field label="Minimum subtotal (optional)" inputMode="decimal" value={draft.minSubtotal} onChange={(e) => set({ minSubtotal: e.target.value })} errors={all.min_subtotal} />
      <div className="form-grid">
        <Field label="Starts at (optional)" type="datetime-local" value={draft.startsAt} onChange={(e) => set({ startsAt: e.target.value })} errors={all.starts_at} />
        <Field label="Ends at (optional)" type="datetime-local" value={draft.endsAt} onChange={(e) => set({ endsAt: e.target.value })} errors={all.ends_at} />
        <Field label="Usage limit (optional)" inputMode="numeric" value={draft.usageLimit} onChange={(e) => set({ usageLimit: e.target.value })} errors={all.usage_limit} hint="Orders in all." />
        <Field label="Uses per customer (optional)" inputMode="numeric" value={draft.perCustomer} onChange={(e) => set({ perCustomer: e.target.value })} errors={all.usage_limit_per_customer} />
      </div>
      <label className="checkbox">
        <input type="checkbox" checked={draft.active} onChange={(e) => set({ active: e.target.checked })} />
        Active
      </label>
      <ErrorMessage error={save.error} fieldsShown={shown} />
      <div className="actions">
        <button type="submit" disabled={save.isPending}>
          {discount ? "Save discount" : "Create discount"}
        </button>
        {discount && (
          <button type="button" className="secondary" onClick={onDone}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}

/** The shop's categories as checkboxes, narrowed by a search for shops with many. */
function CategoryPicker({ selected, onChange, errors }: { selected: number[]; onChange: (ids: number[]) => void; errors?: string[] }) {
  const categories = useCategoryList();
  const [search, setSearch] = useState("");
  const wanted = search.trim().toLowerCase();
  const options = categoryTree(categories.data?.results ?? [])
    .filter(({ category }) => !wanted || category.name.toLowerCase().includes(wanted) || selected.includes(category.id))
    .map(({ category, depth }) => ({ value: String(category.id), label: `${"— ".repeat(depth)}${category.name}` }));
  return (
    <>
      <Field label="Find a category" type="search" value={search} onChange={(e) => setSearch(e.target.value)} />
      {categories.isPending && <Loading />}
      <ErrorMessage error={categories.error} onRetry={() => categories.refetch()} />
      {categories.data?.results.length === 0 && <p className="muted">The shop has no categories yet.</p>}
      <CheckboxGroup legend="Categories" options={options} selected={selected.map(String)} onChange={(ids) => onChange(ids.map(Number))} errors={errors} />
    </>
  );
}

/** Products found by title or SKU and added one by one; the chosen ones by title, each removable. */
function ProductPicker({ selected, onChange, errors }: { selected: number[]; onChange: (ids: number[]) => void; errors?: string[] }) {
  const { api, slug } = useShopApi();
  const [search, setSearch] = useState("");
  const query = useDeferredValue(search.trim());
  const found = useQuery({
    queryKey: queryKeys.shop(slug).productPick(query),
    enabled: query.length > 0,
    queryFn: () => unwrap(api.GET("/api/admin/v1/products", { params: { query: { q: query, limit: 10 } } })),
  });
  const chosen = useQueries({
    queries: selected.map((id) => ({
      queryKey: queryKeys.shop(slug).product(id),
      queryFn: () => unwrap(api.GET("/api/admin/v1/products/{product_id}", { params: { path: { product_id: id } } })),
      staleTime: 60_000,
    })),
  });
  const titleOf = (index: number) => chosen[index]?.data?.title ?? (chosen[index]?.isError ? `Product ${selected[index]} (deleted?)` : `Product ${selected[index]}`);
  return (
    <>
      <ul className="chips" aria-label="Products chosen">
        {selected.map((id, index) => (
          <li key={id} className="chip">
            {titleOf(index)}
            <button type="button" className="chip-remove" aria-label={`Remove ${titleOf(index)}`} onClick={() => onChange(selected.filter((other) => other !== id))}>
              ×
            </button>
          </li>
        ))}
      </ul>
      {errors?.length ? <p className="field-error">{errors.join(" ")}</p> : null}
      <Field label="Find products" type="search" value={search} onChange={(e) => setSearch(e.target.value)} hint="By title, or an exact SKU." />
      {found.isFetching && <Loading label="Searching…" />}
      <ErrorMessage error={found.error} />
      {query && found.data && (
        <ul className="pick-results" aria-label="Products found">
          {found.data.results.length === 0 && <li className="muted">No product matches.</li>}
          {found.data.results.map((product) => (
            <li key={product.id}>
              <button type="button" className="secondary" disabled={selected.includes(product.id)} onClick={() => onChange([...selected, product.id])}>
                {selected.includes(product.id) ? `${product.title} (added)` : `Add ${product.title}`}
              </button>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
