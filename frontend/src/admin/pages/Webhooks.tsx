import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { newIdempotencyKey, unwrap } from "../../api/client";
import { Empty, ErrorMessage, Field, Loading, mergeErrors, type FieldErrors } from "../../shared/ui";
import { queryKeys } from "../queryKeys";
import { useCursorList, useShopApi } from "../session";
import { CheckboxGroup } from "../ui/CheckboxGroup";
import { LoadMore } from "../ui/LoadMore";
import { useToast } from "../ui/toast";
import { SecretNotice, useSecretCreate } from "../ui/useSecretCreate";
import type { Delivery, WebhookEvent } from "../types";

const EVENTS: WebhookEvent[] = [
  "order.created",
  "order.paid",
  "order.partially_fulfilled",
  "order.fulfilled",
  "order.cancelled",
  "order.expired",
  "order.refunded",
  "product.created",
  "product.updated",
  "product.deleted",
  "inventory.low",
];

const SIGNING_SECRET_NOTE = "The signing secret, shown only once: verify each delivery’s Storefleet-Signature with it.";

export function WebhooksPage() {
  const { api, slug } = useShopApi();
  const [url, setUrl] = useState("");
  const [events, setEvents] = useState<WebhookEvent[]>(["order.created"]);
  const [errors, setErrors] = useState<FieldErrors>({});
  const keys = queryKeys.shop(slug);
  const list = useCursorList(keys.webhooks(), (cursor) => unwrap(api.GET("/api/admin/v1/webhooks", { params: { query: { cursor } } })));
  const create = useSecretCreate({
    create: (body: { url: string; events: WebhookEvent[] }, idempotencyKey) =>
      unwrap(api.POST("/api/admin/v1/webhooks", { params: { header: { "Idempotency-Key": idempotencyKey } }, body })),
    secretOf: (endpoint) => endpoint.secret,
    invalidate: keys.webhooks(),
    createdMessage: "Webhook endpoint added.",
    onCreated: () => setUrl(""),
  });
  const all = mergeErrors(errors, create.error);
  return (
    <>
      <h1>Webhooks</h1>
      {create.secret && (
        <SecretNotice label="Signing secret" secret={create.secret} onDone={create.dismissSecret}>
          {SIGNING_SECRET_NOTE}
        </SecretNotice>
      )}
      <form
        className="narrow"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          const found: FieldErrors = {};
          if (!/^https?:\/\/\S+$/.test(url.trim())) found.url = ["An http(s) URL."];
          if (!events.length) found.events = ["Pick at least one event."];
          setErrors(found);
          if (!Object.keys(found).length) create.mutate({ url: url.trim(), events });
        }}
      >
        <Field label="Endpoint URL" type="url" value={url} onChange={(e) => setUrl(e.target.value)} errors={all.url} />
        <CheckboxGroup legend="Events" options={EVENTS.map((name) => ({ value: name, label: name }))} selected={events} onChange={setEvents} errors={all.events} />
        <ErrorMessage error={create.error} fieldsShown={["url", "events"]} />
        <button type="submit" disabled={create.isPending}>
          Add endpoint
        </button>
      </form>
      <h2>Endpoints</h2>
      {list.isPending && <Loading />}
      <ErrorMessage error={list.error} onRetry={() => list.refetch()} />
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
      <LoadMore list={list} />
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
  const toast = useToast();
  const keys = queryKeys.shop(slug);
  const endpoint = useQuery({
    queryKey: keys.webhook(id),
    queryFn: () => unwrap(api.GET("/api/admin/v1/webhooks/{webhook_id}", { params: { path: { webhook_id: id } } })),
  });
  const deliveries = useCursorList(keys.deliveries(id, status), (cursor) =>
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
    onSuccess: () => {
      toast.success("Redelivery queued.");
      void queryClient.invalidateQueries({ queryKey: keys.deliveries(id) });
    },
    onError: (error) => toast.error(error),
  });
  const toggle = useMutation({
    mutationFn: (active: boolean) =>
      unwrap(api.PATCH("/api/admin/v1/webhooks/{webhook_id}", { params: { path: { webhook_id: id } }, body: { is_active: active } })),
    onSuccess: (updated) => {
      toast.success(updated.is_active ? "Endpoint resumed." : "Endpoint paused.");
      queryClient.setQueryData(keys.webhook(id), updated);
    },
    onError: (error) => toast.error(error),
  });
  const rotate = useSecretCreate({
    create: (_: void, idempotencyKey) =>
      unwrap(
        api.POST("/api/admin/v1/webhooks/{webhook_id}/rotate-secret", {
          params: { path: { webhook_id: id }, header: { "Idempotency-Key": idempotencyKey } },
        }),
      ),
    secretOf: (updated) => updated.secret,
    invalidate: keys.webhook(id),
    createdMessage: "Signing secret rotated.",
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/admin/v1/webhooks/{webhook_id}", { params: { path: { webhook_id: id } } })),
    onSuccess: () => {
      toast.success("Endpoint deleted.");
      void queryClient.invalidateQueries({ queryKey: keys.webhooks() });
      navigate("..", { relative: "path" });
    },
    onError: (error) => toast.error(error),
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
      {rotate.secret && (
        <SecretNotice label="Signing secret" secret={rotate.secret} onDone={rotate.dismissSecret}>
          {SIGNING_SECRET_NOTE}
        </SecretNotice>
      )}
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
      <ErrorMessage error={rotate.error} />
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
      <LoadMore list={deliveries} />
    </>
  );
}
