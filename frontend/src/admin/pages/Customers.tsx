import { useState } from "react";
import { Link } from "react-router-dom";
import { unwrap } from "../../api/client";
import { Empty, ErrorMessage, Loading } from "../../shared/ui";
import { queryKeys } from "../queryKeys";
import { useCursorList, useShopApi } from "../session";
import { LoadMore } from "../ui/LoadMore";

export function CustomersPage() {
  const { api, slug } = useShopApi();
  const [email, setEmail] = useState("");
  const [filter, setFilter] = useState("");
  const list = useCursorList(queryKeys.shop(slug).customers(filter), (cursor) =>
    unwrap(api.GET("/api/admin/v1/customers", { params: { query: { email: filter || undefined, cursor } } })),
  );
  return (
    <>
      <h1>Customers</h1>
      <form
        role="search"
        className="actions"
        onSubmit={(event) => {
          event.preventDefault();
          setFilter(email.trim());
        }}
      >
        <label htmlFor="customer-email">E-mail contains</label>
        <input id="customer-email" type="search" value={email} onChange={(e) => setEmail(e.target.value)} />
        <button type="submit">Search</button>
      </form>
      {list.isPending && <Loading />}
      <ErrorMessage error={list.error} onRetry={() => list.refetch()} />
      {list.isSuccess && list.items.length === 0 && <Empty>No customers yet: they appear with their first order.</Empty>}
      {list.items.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Customer</th>
                <th scope="col" className="num">Orders</th>
                <th scope="col">Last order</th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((c) => (
                <tr key={c.id}>
                  <td>
                    <Link to={String(c.id)}>{c.name || c.email}</Link>
                    {c.name && <div className="muted">{c.email}</div>}
                  </td>
                  <td className="num">{c.orders_count}</td>
                  <td>{c.last_order_at ? new Date(c.last_order_at).toLocaleDateString() : "—"}</td>
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
