// Change the status, price or stock of a set of products at once: one request, one
// transaction on the server (all or nothing), audited like single edits.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { newIdempotencyKey, unwrap } from "../../api/client";
import type { components } from "../../api/generated/shop";
import { ErrorMessage } from "../../shared/ui";
import { useShopApi } from "../session";
import { useToast } from "../ui/toast";
import { queryKeys } from "../queryKeys";

type BulkEditBody = components["schemas"]["BulkEditInputRequest"];

export function BulkEdit({ productIds, label, onDone }: { productIds: number[]; label?: string; onDone?: () => void }) {
  const { api, slug } = useShopApi();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [status, setStatus] = useState("");
  const [priceMode, setPriceMode] = useState<"" | "set" | "percent">("");
  const [price, setPrice] = useState("");
  const [stockMode, setStockMode] = useState<"" | "set" | "delta">("");
  const [stock, setStock] = useState("");
  const edit = useMutation({
    mutationFn: () => {
      const body: BulkEditBody = { products: productIds };
      if (status) body.status = status as BulkEditBody["status"];
      if (priceMode === "set") body.price = price;
      if (priceMode === "percent") body.price_change_percent = price;
      if (stockMode === "set") body.stock = Number(stock);
      if (stockMode === "delta") body.stock_delta = Number(stock);
      return unwrap(api.POST("/api/admin/v1/products/bulk-edit", { body, headers: { "Idempotency-Key": newIdempotencyKey() } }));
    },
    onSuccess: (result) => {
      toast.success(`Changed ${result.products.length} products.`);
      void queryClient.invalidateQueries({ queryKey: queryKeys.shop(slug).products() });
      void queryClient.invalidateQueries({ queryKey: queryKeys.shop(slug).inventory() });
      onDone?.();
    },
  });
  return (
    <section aria-labelledby="bulk-edit-heading">
      <h2 id="bulk-edit-heading">{label ?? `Edit ${productIds.length} products`}</h2>
      <form
        className="actions"
        onSubmit={(event: FormEvent) => {
          event.preventDefault();
          edit.mutate();
        }}
      >
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">Unchanged</option>
            <option value="draft">draft</option>
            <option value="active">active</option>
            <option value="archived">archived</option>
          </select>
        </label>
        <label>
          Price
          <select value={priceMode} onChange={(e) => setPriceMode(e.target.value as typeof priceMode)}>
            <option value="">Unchanged</option>
            <option value="set">Set to</option>
            <option value="percent">Change by %</option>
          </select>
        </label>
        {priceMode && (
          <input aria-label="Price value" inputMode="decimal" value={price} onChange={(e) => setPrice(e.target.value)} />
        )}
        <label>
          Stock
          <select value={stockMode} onChange={(e) => setStockMode(e.target.value as typeof stockMode)}>
            <option value="">Unchanged</option>
            <option value="set">Set to</option>
            <option value="delta">Add (or take)</option>
          </select>
        </label>
        {stockMode && (
          <input aria-label="Stock value" inputMode="numeric" value={stock} onChange={(e) => setStock(e.target.value)} />
        )}
        <button type="submit" disabled={!productIds.length || edit.isPending}>
          Apply to {productIds.length} products
        </button>
      </form>
      {edit.isPending && <progress aria-label="Applying the changes" />}
      <ErrorMessage error={edit.error} />
    </section>
  );
}
