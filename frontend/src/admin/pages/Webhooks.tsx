import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { newIdempotencyKey, unwrap } from "../../api/client";
import { Empty, ErrorMessage, Field, Loading, mergeErrors, Notice, type FieldErrors } from "../../shared/ui";
import { useCursorList, useShopApi } from "../session";
import type { Delivery, WebhookEvent } from "../types";

const EVENTS: WebhookEvent[] = [
  "order.created",
  "order.paid",
  "order.fulfilled",
  "order.cancelled",
  "order.expired",
  "order.refunded",
  "product.created",
  "product.updated",
  "product.deleted",
  "inventory.low",
];

function SecretNotice({ secret, onDone }: { secret: string; onDone: () => void }) {
  return (
    <Notice>
      <p>The signing secret, shown only once: verify each delivery&rsquo;s Storefleet-Signature with it.</p>
      <p className="secret" aria-label="Signing secret">
        {secret}
      </p>
      <button type="button" className="secondary" onClick={onDone}>
        I have copied it
      </button>
    </Notice>
  );
}

export function WebhooksPage() {
  const { api, slug } = useShopApi();
  const queryClient = useQueryClient();
  const [url, setUrl] = useState("");
  const [events, setEvents] = useState<WebhookEvent[]>(["order.created"]);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [secret, setSecret] = useState<string | null>(null);
  const list = useCursorList(["admin-webhooks", slug], (cursor) =>
    unwrap(api.GET("/api/admin/v1/webhooks", { params: { query: { cursor } } })),
  );
  const create = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/admin/v1/webhooks", {
          params: { header: { "Idempotency-Key": newIdempotencyKey() } },
          body: { url: url.trim(), events },
        }),
      ),
    onSuccess: (endpoint) => {
      setSecret(endpoint.secret);
      setUrl("");
      queryClient.invalidateQueries({ queryKey: ["admin-webhooks", slug] });
    },
  });
  const all = mergeErrors(errors, create.error);
  return (
    <>
      <h1>Webhooks</h1>
      {secret && <SecretNotice secret={secret} onDone={() => setSecret(null)} />}
      <form
        className="narrow"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          const found: FieldErrors = {};
          if (!/^https?:\/\/\S+$/.test(url.trim())) found.url = ["An http(s) URL."];
          if (!events.length) found.events = ["Pick at least one event."];
          setErrors(found);
          if (!Object.keys(found).length) create.mutate();
        }}
      >
        <Field label="Endpoint URL" type="url" value={url} onChange={(e) => setUrl(e.target.value)} errors={all.url} />
        <fieldset>
          <legend>Events</legend>
          {EVENTS.map((name) => (
            <label className="checkbox" key={name}>
              <input
                type="checkbox"
                checked={events.includes(name)}
                onChange={(e) => setEvents(e.target.checked ? [...events, name] : events.filter((x) => x !== name))}
              />
              {name}
            </label>
          ))}
          {all.events && <small className="field-error">{all.events.join(" ")}</small>}
        </fieldset>
        <ErrorMessage error={create.error} />
        <button type="submit" disabled={create.isPending}>
          Add endpoint
        </button>
      </form>
      <h2>Endpoints</h2>
      {list.isPending && <Loading />}
      <ErrorMessage error={list.error} />
      {list.isSuccess && list.items.length === 0 && <Empty>No endpoints.</Empty>}
      <ul>
        {list.items.map((endpoint) => (
          <li key={endpoint.id}>
            <Link to={String(endpoint.id)}>{endpoint.url}</Link> <span className="muted">{endpoint.events.join(", ")}</span>{" "}
            {!endpoint.is_active && <span className="badge warn">paused</span>}
            {endpoint.is_active && endpoint.paused_until && <span className="badge warn">failing: paused</span>}
          </li>
        ))}
      </ul>
    </>
  );
}

export function WebhookDetailPage() {
  const { api, slug } = useShopApi();
  const { webhookId = "" } = useParams();
  const id = Number(webhookId);
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [status, setStatus] = useState("");
  const [secret, setSecret] = useState<string | null>(null);
  const endpoint = useQuery({
    queryKey: ["admin-webhook", slug, id],
    queryFn: () => unwrap(api.GET("/api/admin/v1/webhooks/{webhook_id}", { params: { path: { webhook_id: id } } })),
  });
  const deliveries = useCursorList(["admin-deliveries", slug, id, status], (cursor) =>
    unwrap(
      api.GET("/api/admin/v1/webhooks/{webhook_id}/deliveries", {
        params: { path: { webhook_id: id }, query: { cursor, status: (status || undefined) as Delivery["status"] | undefined } },
      }),
    ),
  );
  const redeliver = useMutation({
    mutationFn: (deliveryId: string) =>
      unwrap(
        api.POST("/api/admin/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", {
          params: { path: { webhook_id: id, delivery_id: deliveryId }, header: { "Idempotency-Key": newIdempotencyKey() } },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["admin-deliveries", slug, id] }),
  });
  const toggle = useMutation({
    mutationFn: (active: boolean) =>
      unwrap(api.PATCH("/api/admin/v1/webhooks/{webhook_id}", { params: { path: { webhook_id: id } }, body: { is_active: active } })),
    onSuccess: (updated) => queryClient.setQueryData(["admin-webhook", slug, id], updated),
  });
  const rotate = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/admin/v1/webhooks/{webhook_id}/rotate-secret", {
          params: { path: { webhook_id: id }, header: { "Idempotency-Key": newIdempotencyKey() } },
        }),
      ),
    onSuccess: (updated) => setSecret(updated.secret),
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/admin/v1/webhooks/{webhook_id}", { params: { path: { webhook_id: id } } })),
    onSuccess: () => {
      queryClient.invalidateQueries({ queryKey: ["admin-webhooks", slug] });
      navigate("..", { relative: "path" });
    },
  });
  if (endpoint.isPending) return <Loading />;
  if (endpoint.isError) return <ErrorMessage error={endpoint.error} onRetry={() => endpoint.refetch()} />;
  const e = endpoint.data;
  return (
    <>
      <p>
        <Link to=".." relative="path">
          ← Webhooks
        </Link>
      </p>
      <h1>{e.url}</h1>
      <p>Events: {e.events.join(", ")}</p>
      {e.paused_until && (
        <p className="notice warn" role="status">
          Paused after {e.consecutive_failures} failed attempts in a row: no deliveries before{" "}
          {new Date(e.paused_until).toLocaleString()}. One attempt then tests the endpoint, and a success resumes the
          rest. Changing its URL, or pausing and resuming it, resumes at once.
        </p>
      )}
      {secret && <SecretNotice secret={secret} onDone={() => setSecret(null)} />}
      <div className="actions">
        <button type="button" className="secondary" onClick={() => toggle.mutate(!e.is_active)}>
          {e.is_active ? "Pause" : "Resume"}
        </button>
        <button type="button" className="secondary" onClick={() => rotate.mutate()}>
          Rotate secret
        </button>
        <button type="button" className="danger" onClick={() => window.confirm("Delete this endpoint?") && remove.mutate()}>
          Delete endpoint
        </button>
      </div>
      <ErrorMessage error={toggle.error ?? rotate.error ?? remove.error ?? redeliver.error} />
      <h2>Deliveries</h2>
      <label htmlFor="delivery-status">Status</label>{" "}
      <select id="delivery-status" value={status} onChange={(ev) => setStatus(ev.target.value)}>
        <option value="">Any</option>
        <option value="pending">pending</option>
        <option value="failed">failed</option>
        <option value="succeeded">succeeded</option>
        <option value="dead">dead (dead letters)</option>
      </select>
      {deliveries.isPending && <Loading />}
      <ErrorMessage error={deliveries.error} />
      {deliveries.isSuccess && deliveries.items.length === 0 && <Empty>No deliveries yet.</Empty>}
      {deliveries.items.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">Attempts</th>
                <th scope="col">Last answer</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {deliveries.items.map((d) => {
                const last = d.attempts[d.attempts.length - 1];
                return (
                  <tr key={d.id}>
                    <td>
                      {d.event_type}
                      <div className="muted">{new Date(d.created_at).toLocaleString()}</div>
                    </td>
                    <td>
                      <span className={`badge ${d.status === "succeeded" ? "ok" : d.status === "pending" ? "" : "warn"}`}>{d.status}</span>
                    </td>
                    <td className="num">{d.attempt_count}</td>
                    <td>{last ? (last.response_status ?? last.error) : "—"}</td>
                    <td>
                      <button type="button" className="secondary" onClick={() => redeliver.mutate(d.id)}>
                        Redeliver
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {deliveries.hasNextPage && (
        <button type="button" className="secondary" onClick={() => deliveries.fetchNextPage()}>
          Load more
        </button>
      )}
    </>
  );
}
