import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { unwrap } from "../../api/client";
import { ErrorMessage, Field, Loading, mergeErrors, Notice, type FieldErrors } from "../../shared/ui";
import { usePlatform, useShopApi } from "../session";

export function SettingsPage() {
  const { slug } = useShopApi();
  const platform = usePlatform();
  const shop = useQuery({
    queryKey: ["platform-shop", slug],
    queryFn: () => unwrap(platform.GET("/api/platform/v1/shops/{slug}", { params: { path: { slug } } })),
  });
  if (shop.isPending) return <Loading />;
  if (shop.isError) return <ErrorMessage error={shop.error} onRetry={() => shop.refetch()} />;
  return <SettingsForm key={shop.data.name} slug={slug} name={shop.data.name} currency={shop.data.currency} domain={shop.data.domain} />;
}

function SettingsForm({ slug, name: initial, currency, domain }: { slug: string; name: string; currency: string; domain: string }) {
  const platform = usePlatform();
  const queryClient = useQueryClient();
  const [name, setName] = useState(initial);
  const [errors, setErrors] = useState<FieldErrors>({});
  const save = useMutation({
    mutationFn: () => unwrap(platform.PATCH("/api/platform/v1/shops/{slug}", { params: { path: { slug } }, body: { name: name.trim() } })),
    onSuccess: (shop) => {
      queryClient.setQueryData(["platform-shop", slug], shop);
      queryClient.invalidateQueries({ queryKey: ["me"] });
    },
  });
  const all = mergeErrors(errors, save.error);
  return (
    <>
      <h1>Settings</h1>
      <p>
        Storefront host: <code>{domain}</code> · currency {currency}
      </p>
      <form
        className="narrow"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          const found: FieldErrors = name.trim() ? {} : { name: ["The shop needs a name."] };
          setErrors(found);
          if (!Object.keys(found).length) save.mutate();
        }}
      >
        <Field label="Shop name" value={name} onChange={(e) => setName(e.target.value)} errors={all.name} />
        <ErrorMessage error={save.error} />
        {save.isSuccess && <Notice>Saved.</Notice>}
        <button type="submit" disabled={save.isPending}>
          Save
        </button>
      </form>
    </>
  );
}
