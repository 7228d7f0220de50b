import { useQuery } from "@tanstack/react-query";
import { lazy, Suspense } from "react";
import { unwrap } from "../../../api/client";
import { Field, Loading, SelectField, type FieldErrors } from "../../../shared/ui";
import { queryKeys } from "../../queryKeys";
import { useShopApi } from "../../session";
import { STATUSES, type ProductFields, type Status } from "./productForm";

// react-jsonschema-form and its validator load with the first product form, not with the admin app.
const ProductAttributesForm = lazy(() => import("./ProductAttributes"));

function useCategories() {
  const { api, slug } = useShopApi();
  return useQuery({
    queryKey: queryKeys.shop(slug).categories(),
    queryFn: () => unwrap(api.GET("/api/admin/v1/categories", { params: { query: { limit: 100 } } })),
  });
}

export function ProductFieldset({ fields, set, errors }: { fields: ProductFields; set: (f: Partial<ProductFields>) => void; errors: FieldErrors }) {
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
      <div className="form-grid">
        <Field label="Vendor" value={fields.vendor} onChange={(e) => set({ vendor: e.target.value })} errors={errors.vendor} />
        <Field
          label="Tags"
          value={fields.tags}
          placeholder="summer, cotton, sale"
          hint="Separate tags with commas."
          onChange={(e) => set({ tags: e.target.value })}
          errors={errors.tags}
        />
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
