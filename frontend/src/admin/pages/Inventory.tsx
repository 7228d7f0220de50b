import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useSearchParams } from "react-router-dom";
import { newIdempotencyKey, unwrap } from "../../api/client";
import { Empty, ErrorMessage, Loading } from "../../shared/ui";
import { queryKeys } from "../queryKeys";
import { useCursorList, useShopApi } from "../session";
import { LoadMore } from "../ui/LoadMore";
import { useToast } from "../ui/toast";
import type { InventoryItem, Reason } from "../types";

const REASONS: Reason[] = ["received", "correction", "damaged", "returned", "restocked"];

function AdjustForm({ item }: { item: InventoryItem }) {
  const { api, slug } = useShopApi();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [delta, setDelta] = useState("");
  const [reason, setReason] = useState<Reason>("received");
  const [error, setError] = useState("");
  const adjust = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/admin/v1/inventory/adjustments", {
          params: { header: { "Idempotency-Key": newIdempotencyKey() } },
          body: { variant: item.variant, delta: Number(delta), reason },
        }),
      ),
    onSuccess: (answer) => {
      toast.success(`Stock of ${item.sku} is now ${answer.stock_after}.`);
      setDelta("");
      void queryClient.invalidateQueries({ queryKey: queryKeys.shop(slug).inventory() });
    },
  });
  return (
    <form
      className="actions"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        const ok = /^-?\d+$/.test(delta.trim()) && Number(delta) !== 0;
        setError(ok ? "" : "A whole number, not zero (negative removes).");
        if (ok) adjust.mutate();
      }}
    >
      <label className="visually-hidden" htmlFor={`delta-${item.variant}`}>
        Change in stock of {item.sku}
      </label>
      <input
        id={`delta-${item.variant}`}
        inputMode="numeric"
        placeholder="+10 or -2"
        value={delta}
        onChange={(e) => setDelta(e.target.value)}
        style={{ width: "7em" }}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `delta-${item.variant}-error` : undefined}
      />
      <label className="visually-hidden" htmlFor={`reason-${item.variant}`}>
        Reason
      </label>
      <select id={`reason-${item.variant}`} value={reason} onChange={(e) => setReason(e.target.value as Reason)}>
        {REASONS.map((r) => (
          <option key={r}>{r}</option>
        ))}
      </select>
      <button type="submit" className="secondary" disabled={adjust.isPending}>
        Adjust
      </button>
      {error && (
        <small id={`delta-${item.variant}-error`} className="field-error">
          {error}
        </small>
      )}
      <ErrorMessage error={adjust.error} />
    </form>
  );
}

export function InventoryPage() {
  const { api, slug } = useShopApi();
  const [params, setParams] = useSearchParams();
  const lowOnly = params.get("low_stock") === "true";
  const list = useCursorList(queryKeys.shop(slug).inventory(lowOnly), (cursor) =>
    unwrap(api.GET("/api/admin/v1/inventory", { params: { query: { low_stock: lowOnly || undefined, cursor } } })),
  );
  return (
    <>
      <h1>Inventory</h1>
      <label className="checkbox">
        <input type="checkbox" checked={lowOnly} onChange={(e) => setParams(e.target.checked ? { low_stock: "true" } : {})} />
        Only low stock
      </label>
      {list.isPending && <Loading />}
      <ErrorMessage error={list.error} onRetry={() => list.refetch()} />
      {list.isSuccess && list.items.length === 0 && <Empty>Nothing here.</Empty>}
      {list.items.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Product</th>
                <th scope="col">SKU</th>
                <th scope="col" className="num">Stock</th>
                <th scope="col">Adjust</th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((item) => (
                <tr key={item.variant}>
                  <td>{item.product_title}</td>
                  <td>{item.sku}</td>
                  <td className="num">
                    {item.stock} {item.low_stock && <span className="badge warn">low</span>}
                  </td>
                  <td>
                    <AdjustForm item={item} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <LoadMore list={list} />
    </>
  );
}
