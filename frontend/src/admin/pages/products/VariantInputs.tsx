import { Field } from "../../../shared/ui";
import type { VariantRow } from "./variants";

export function VariantInputs({
  row,
  set,
  errors,
  index,
}: {
  row: VariantRow;
  set: (r: VariantRow) => void;
  errors: Record<string, string>;
  index: number;
}) {
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
