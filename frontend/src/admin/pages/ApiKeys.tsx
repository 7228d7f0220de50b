import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { newIdempotencyKey, unwrap } from "../../api/client";
import { Empty, ErrorMessage, Field, Loading, mergeErrors, Notice, type FieldErrors } from "../../shared/ui";
import { useCursorList, useShopApi } from "../session";
import type { Scope } from "../types";

const SCOPES: Scope[] = ["catalog:read", "catalog:write", "orders:read", "orders:write", "webhooks:write"];

export function ApiKeysPage() {
  const { api, slug } = useShopApi();
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<Scope[]>(["catalog:read"]);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [secret, setSecret] = useState<string | null>(null);
  const list = useCursorList(["admin-api-keys", slug], (cursor) =>
    unwrap(api.GET("/api/admin/v1/api-keys", { params: { query: { cursor } } })),
  );
  const create = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/admin/v1/api-keys", {
          params: { header: { "Idempotency-Key": newIdempotencyKey() } },
          body: { name: name.trim(), scopes },
        }),
      ),
    onSuccess: (key) => {
      setSecret(key.key);
      setName("");
      queryClient.invalidateQueries({ queryKey: ["admin-api-keys", slug] });
    },
  });
  const revoke = useMutation({
    mutationFn: (id: number) => unwrap(api.DELETE("/api/admin/v1/api-keys/{api_key_id}", { params: { path: { api_key_id: id } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["admin-api-keys", slug] }),
  });
  const all = mergeErrors(errors, create.error);
  return (
    <>
      <h1>API keys</h1>
      {secret && (
        <Notice>
          <p>Copy the key now: it is shown only once.</p>
          <p className="secret" aria-label="New API key">
            {secret}
          </p>
          <button type="button" className="secondary" onClick={() => setSecret(null)}>
            I have copied it
          </button>
        </Notice>
      )}
      <form
        className="narrow"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          const found: FieldErrors = {};
          if (!name.trim()) found.name = ["Name the key after what uses it."];
          if (!scopes.length) found.scopes = ["Pick at least one scope."];
          setErrors(found);
          if (!Object.keys(found).length) create.mutate();
        }}
      >
        <Field label="Key name" value={name} onChange={(e) => setName(e.target.value)} errors={all.name} />
        <fieldset>
          <legend>Scopes</legend>
          {SCOPES.map((scope) => (
            <label className="checkbox" key={scope}>
              <input
                type="checkbox"
                checked={scopes.includes(scope)}
                onChange={(e) => setScopes(e.target.checked ? [...scopes, scope] : scopes.filter((s) => s !== scope))}
              />
              {scope}
            </label>
          ))}
          {all.scopes && <small className="field-error">{all.scopes.join(" ")}</small>}
        </fieldset>
        <ErrorMessage error={create.error} />
        <button type="submit" disabled={create.isPending}>
          Create key
        </button>
      </form>
      <h2>Keys</h2>
      {list.isPending && <Loading />}
      <ErrorMessage error={list.error ?? revoke.error} />
      {list.isSuccess && list.items.length === 0 && <Empty>No API keys.</Empty>}
      {list.items.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Prefix</th>
                <th scope="col">Scopes</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((key) => (
                <tr key={key.id}>
                  <td>{key.name}</td>
                  <td>
                    <code>{key.prefix}…</code>
                  </td>
                  <td>{key.scopes.join(", ")}</td>
                  <td>{key.last_used_at ? new Date(key.last_used_at).toLocaleString() : "never"}</td>
                  <td>
                    {key.revoked_at ? (
                      <span className="badge warn">revoked</span>
                    ) : (
                      <button type="button" className="danger" onClick={() => revoke.mutate(key.id)} aria-label={`Revoke ${key.name}`}>
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
