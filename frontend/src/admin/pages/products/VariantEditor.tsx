import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { unwrap } from "../../../api/client";
import { ErrorMessage } from "../../../shared/ui";
import { queryKeys } from "../../queryKeys";
import { useShopApi } from "../../session";
import type { Product, Variant } from "../../types";
import { useToast } from "../../ui/toast";
import { VariantInputs } from "./VariantInputs";
import { EMPTY_VARIANT, toRow, validateVariant, VARIANT_FIELDS, variantBody, type VariantRow } from "./variants";

/** One variant's form on the product page (or, with `variant` null, the form that adds one). */
export function VariantEditor({ product, variant, index }: { product: Product; variant: Variant | null; index: number }) {
  const { api, slug } = useShopApi();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [row, setRow] = useState<VariantRow>(variant ? toRow(variant) : { ...EMPTY_VARIANT });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const refresh = () => queryClient.invalidateQueries({ queryKey: queryKeys.shop(slug).product(product.id) });
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
      toast.success(variant ? `Variant ${row.sku.trim()} saved.` : `Variant ${row.sku.trim()} added.`);
      if (!variant) setRow({ ...EMPTY_VARIANT });
      void refresh();
    },
  });
  const remove = useMutation({
    mutationFn: () =>
      unwrap(
        api.DELETE("/api/admin/v1/products/{product_id}/variants/{variant_id}", {
          params: { path: { product_id: product.id, variant_id: variant!.id } },
        }),
      ),
    onSuccess: () => {
      toast.success(`Variant ${variant?.sku} deleted.`);
      void refresh();
    },
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
        <ErrorMessage error={save.error ?? remove.error} fieldsShown={VARIANT_FIELDS} />
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
