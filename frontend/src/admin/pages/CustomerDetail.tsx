import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useParams } from "react-router-dom";
import { unwrap } from "../../api/client";
import { formatMoney, money } from "../../api/money";
import { ErrorMessage, Loading, Notice } from "../../shared/ui";
import { useShopApi } from "../session";
import { queryKeys } from "../queryKeys";

/** A customer: their orders (by e-mail), the addresses they shipped to, what they spent, and internal notes. */
export function CustomerDetailPage() {
  const { api, slug } = useShopApi();
  const queryClient = useQueryClient();
  const { customerId = "" } = useParams();
  const key = queryKeys.shop(slug).customer(customerId);
  const customer = useQuery({
    queryKey: key,
    queryFn: () => unwrap(api.GET("/api/admin/v1/customers/{customer_id}", { params: { path: { customer_id: Number(customerId) } } })),
  });
  const [note, setNote] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (text: string) =>
      unwrap(api.PATCH("/api/admin/v1/customers/{customer_id}", { params: { path: { customer_id: Number(customerId) } }, body: { note: text } })),
    onSuccess: (updated) => {
      queryClient.setQueryData(key, updated);
      setNote(null);
    },
  });
  if (customer.isPending) return <Loading />;
  if (customer.isError) return <ErrorMessage error={customer.error} onRetry={() => customer.refetch()} />;
  const c = customer.data;
  const draft = note ?? c.note;
  return (
    <>
      <p>
        <Link to=".." relative="path">
          ← Customers
        </Link>
      </p>
      <h1>{c.name || c.email}</h1>
      <p>
        {c.email} · {c.orders_count} order{c.orders_count === 1 ? "" : "s"} · spent{" "}
        {c.total_spent.length ? c.total_spent.map((amount) => formatMoney(money(amount))).join(" + ") : "nothing yet"}
      </p>
      <section aria-labelledby="notes-heading">
        <h2 id="notes-heading">Notes</h2>
        <form
          className="narrow"
          onSubmit={(event) => {
            event.preventDefault();
            save.mutate(draft);
          }}
        >
          <label htmlFor="customer-note">Internal notes (never shown to the customer)</label>
          <textarea id="customer-note" rows={4} maxLength={5000} value={draft} onChange={(e) => setNote(e.target.value)} />
          <ErrorMessage error={save.error} />
          {save.isSuccess && note === null && <Notice>Notes saved.</Notice>}
          <button type="submit" disabled={save.isPending || draft === c.note}>
            Save notes
          </button>
        </form>
      </section>
      <section aria-labelledby="addresses-heading">
        <h2 id="addresses-heading">Addresses</h2>
        {c.addresses.length === 0 && <p className="muted">None yet.</p>}
        <ul>
          {c.addresses.map((a, index) => (
            <li key={index}>
              <address>
                {a.name}, {a.line1}
                {a.line2 ? `, ${a.line2}` : ""}, {a.postal_code} {a.city}, {a.country}
              </address>
            </li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="orders-heading">
        <h2 id="orders-heading">Orders</h2>
        <ul>
          {c.orders.map((o) => (
            <li key={o.number}>
              <Link to={`../../orders/${o.number}`} relative="path">
                #{o.number}
              </Link>{" "}
              {new Date(o.placed_at).toLocaleDateString()} · {o.status} · {formatMoney(money(o.total))}
            </li>
          ))}
        </ul>
      </section>
    </>
  );
}
