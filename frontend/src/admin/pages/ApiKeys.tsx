import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { unwrap } from "../../api/client";
import { Empty, ErrorMessage, Field, Loading, mergeErrors, type FieldErrors } from "../../shared/ui";
import { queryKeys } from "../queryKeys";
import { useCursorList, useShopApi } from "../session";
import type { Scope } from "../types";
import { CheckboxGroup } from "../ui/CheckboxGroup";
import { LoadMore } from "../ui/LoadMore";
import { useToast } from "../ui/toast";
import { SecretNotice, useSecretCreate } from "../ui/useSecretCreate";

export const SCOPES: { scope: Scope; label: string }[] = [
  { scope: "catalog:read", label: "Read the catalog" },
  { scope: "catalog:write", label: "Change the catalog" },
  { scope: "orders:read", label: "Read orders" },
  { scope: "orders:write", label: "Change orders" },
  { scope: "webhooks:write", label: "Manage webhooks" },
];

export function ApiKeysPage() {
  const { api, slug } = useShopApi();
  const queryClient = useQueryClient();
  const toast = useToast();
  const keys = queryKeys.shop(slug);
  const [name, setName] = useState("");
  // Nothing is ticked at first: a key gets exactly the scopes the merchant picks.
  const [scopes, setScopes] = useState<Scope[]>([]);
  const [errors, setErrors] = useState<FieldErrors>({});
  const list = useCursorList(keys.apiKeys(), (cursor) => unwrap(api.GET("/api/admin/v1/api-keys", { params: { query: { cursor } } })));
  const create = useSecretCreate({
    create: (body: { name: string; scopes: Scope[] }, idempotencyKey) =>
      unwrap(api.POST("/api/admin/v1/api-keys", { params: { header: { "Idempotency-Key": idempotencyKey } }, body })),
    secretOf: (key) => key.key,
    invalidate: keys.apiKeys(),
    createdMessage: "API key created.",
    onCreated: () => {
      setName("");
      setScopes([]);
    },
  });
  const revoke = useMutation({
    mutationFn: (id: number) => unwrap(api.DELETE("/api/admin/v1/api-keys/{api_key_id}", { params: { path: { api_key_id: id } } })),
    onSuccess: () => {
      toast.success("API key revoked.");
      void queryClient.invalidateQueries({ queryKey: keys.apiKeys() });
    },
    onError: (error) => toast.error(error),
  });
  const all = mergeErrors(errors, create.error);
  return (
    <>
      <h1>API keys</h1>
      {create.secret && (
        <SecretNotice label="New API key" secret={create.secret} onDone={create.dismissSecret}>
          Copy the key now: it is shown only once.
        </SecretNotice>
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
          if (!Object.keys(found).length) create.mutate({ name: name.trim(), scopes });
        }}
      >
        <Field label="Key name" value={name} onChange={(e) => setName(e.target.value)} errors={all.name} />
        <CheckboxGroup
          legend="Scopes"
          options={SCOPES.map(({ scope, label }) => ({ value: scope, label: <>{label} <code>{scope}</code></> }))}
          selected={scopes}
          onChange={setScopes}
          errors={all.scopes}
        />
        <ErrorMessage error={create.error} fieldsShown={["name", "scopes"]} />
        <button type="submit" disabled={create.isPending}>
          Create key
        </button>
      </form>
      <h2>Keys</h2>
      {list.isPending && <Loading />}
      <ErrorMessage error={list.error} onRetry={() => list.refetch()} />
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
      <LoadMore list={list} />
    </>
  );
}
