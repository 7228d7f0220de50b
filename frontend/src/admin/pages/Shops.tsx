import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router-dom";
import { shopOrigin, unwrap } from "../../api/client";
import { Empty, ErrorMessage, Field, Loading, mergeErrors, SelectField, type FieldErrors } from "../../shared/ui";
import { queryKeys } from "../queryKeys";
import { useMe, usePlatform } from "../session";
import { useToast } from "../ui/toast";

const CURRENCIES = ["EUR", "USD", "GBP", "CHF", "SEK", "DKK", "NOK", "PLN", "CZK", "CAD", "AUD", "JPY"];
const SLUG_RE = /^[a-z0-9](?:[a-z0-9-]{1,38})[a-z0-9]$/;

export function ShopsPage() {
  const me = useMe();
  if (me.isPending) return <Loading />;
  if (me.isError) return <ErrorMessage error={me.error} onRetry={() => me.refetch()} />;
  const memberships = me.data.memberships;
  return (
    <>
      <h1>Your shops</h1>
      {memberships.length === 0 ? (
        <Empty>You have no shop yet.</Empty>
      ) : (
        <ul className="grid">
          {memberships.map((m) => (
            <li key={m.shop} className="card">
              <Link className="title" to={`/s/${m.shop}`}>
                {m.shop_name}
              </Link>
              <span className="muted">
                {m.domain} · {m.role}
              </span>
              <a href={shopOrigin(m.domain)} target="_blank" rel="noreferrer">
                Open storefront
              </a>
            </li>
          ))}
        </ul>
      )}
      <p className="actions">
        <Link className="button" to="/shops/new">
          Create a shop
        </Link>
      </p>
    </>
  );
}

export function slugify(name: string): string {
  return name
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40);
}

export function CreateShopPage() {
  const platform = usePlatform();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [name, setName] = useState("");
  const [slug, setSlug] = useState("");
  const [slugTouched, setSlugTouched] = useState(false);
  const toast = useToast();
  const [currency, setCurrency] = useState("EUR");
  const [errors, setErrors] = useState<FieldErrors>({});
  const create = useMutation({
    mutationFn: () =>
      unwrap(
        platform.POST("/api/platform/v1/shops", {
          body: { name: name.trim(), slug, currency: currency as "EUR" },
        }),
      ),
    onSuccess: async (shop) => {
      await queryClient.invalidateQueries({ queryKey: queryKeys.me() });
      toast.success(`${shop.name} is ready.`);
      navigate(`/s/${shop.slug}`);
    },
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const found: FieldErrors = {};
    if (!name.trim()) found.name = ["Name your shop."];
    if (!SLUG_RE.test(slug)) found.slug = ["3–40 characters: a–z, 0–9 and hyphens, not at either end."];
    setErrors(found);
    if (!Object.keys(found).length) create.mutate();
  };
  const all = mergeErrors(errors, create.error);
  return (
    <>
      <h1>Create a shop</h1>
      <form className="narrow" onSubmit={onSubmit} noValidate>
        <Field
          label="Shop name"
          value={name}
          onChange={(e) => {
            setName(e.target.value);
            if (!slugTouched) setSlug(slugify(e.target.value));
          }}
          errors={all.name}
        />
        <Field
          label="Address (slug)"
          value={slug}
          onChange={(e) => {
            setSlugTouched(true);
            setSlug(e.target.value.toLowerCase());
          }}
          errors={all.slug}
          hint="Your storefront's address starts with it: lower-case letters, digits and hyphens."
        />
        <SelectField label="Currency" value={currency} onChange={(e) => setCurrency(e.target.value)} errors={all.currency}>
          {CURRENCIES.map((code) => (
            <option key={code}>{code}</option>
          ))}
        </SelectField>
        <ErrorMessage error={create.error} fieldsShown={["name", "slug", "currency"]} />
        <button type="submit" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Create shop"}
        </button>
      </form>
    </>
  );
}
