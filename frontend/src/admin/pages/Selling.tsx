import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { unwrap } from "../../api/client";
import type { components } from "../../api/generated/shop";
import { formatMoney, money, parseAmount } from "../../api/money";
import { COUNTRY_CODES, countryOptions } from "../../shared/countries";
import { Empty, ErrorMessage, Field, Loading, mergeErrors, Notice, SelectField, type FieldErrors } from "../../shared/ui";
import { queryKeys } from "../queryKeys";
import { useShopApi } from "../session";

type S = components["schemas"];
type Zone = S["ShippingZoneOutput"];
type Country = S["ShippingZoneInputRequest"]["countries"][number];

/** "DE, AT fr" -> ["DE", "AT", "FR"], or the codes that are not countries. */
export function parseCountries(text: string): { codes: Country[]; unknown: string[] } {
  const codes = text
    .split(/[\s,;]+/)
    .map((code) => code.trim().toUpperCase())
    .filter(Boolean);
  return {
    codes: [...new Set(codes)].filter((code) => COUNTRY_CODES.includes(code)) as Country[],
    unknown: codes.filter((code) => !COUNTRY_CODES.includes(code)),
  };
}

/** A tax rate as the API takes it: percent, 0 to 100, at most four decimals. */
export function parseRate(input: string): string | null {
  const trimmed = input.trim().replace(",", ".");
  if (!/^\d{1,3}(\.\d{1,4})?$/.test(trimmed) || Number(trimmed) > 100) return null;
  return trimmed;
}

// --- Shipping ------------------------------------------------------------------------------

export function ShippingPage() {
  const { api, slug } = useShopApi();
  const zones = useQuery({
    queryKey: queryKeys.shop(slug).shippingZones(),
    queryFn: () => unwrap(api.GET("/api/admin/v1/shipping-zones")),
  });
  return (
    <>
      <h1>Shipping</h1>
      <p className="muted">
        A zone is a set of countries (each in one zone only), optionally only some postal codes; its methods are what
        shoppers there choose from. Without zones the shop charges no shipping.
      </p>
      {zones.isPending && <Loading />}
      <ErrorMessage error={zones.error} onRetry={() => zones.refetch()} />
      {zones.data?.length === 0 && <Empty>No shipping zones yet.</Empty>}
      {zones.data?.map((zone) => <ZoneCard key={`${zone.id}-${JSON.stringify(zone)}`} zone={zone} />)}
      <h2>New zone</h2>
      <ZoneForm />
    </>
  );
}

function ZoneCard({ zone }: { zone: Zone }) {
  const { api, slug } = useShopApi();
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/admin/v1/shipping-zones/{zone_id}", { params: { path: { zone_id: zone.id } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.shop(slug).shippingZones() }),
  });
  return (
    <section className="card" aria-label={`Zone ${zone.name}`}>
      <h2>{zone.name}</h2>
      <p>
        {zone.countries.join(", ")}
        {zone.postal_code_prefixes.length > 0 && <> · postal codes {zone.postal_code_prefixes.join(", ")}…</>}
      </p>
      <ul>
        {zone.methods.map((method) => (
          <li key={method.id}>
            {method.name}:{" "}
            {method.rate_type === "weight"
              ? method.weight_bands.map((band) => `≤ ${band.up_to_grams} g ${formatMoney(money(band.price))}`).join(", ")
              : formatMoney(money(method.price))}
            {method.free_over && <> · free over {formatMoney(money(method.free_over))}</>}
            {method.min_days !== null && method.max_days !== null && <> · {method.min_days}–{method.max_days} days</>}
            {method.pickup && <> · pickup</>}
          </li>
        ))}
      </ul>
      <ErrorMessage error={remove.error} />
      <button type="button" className="secondary" onClick={() => remove.mutate()} disabled={remove.isPending}>
        Delete zone
      </button>
    </section>
  );
}

type MethodDraft = { name: string; price: string; free_over: string; min_days: string; max_days: string; pickup: boolean };
const NEW_METHOD: MethodDraft = { name: "", price: "", free_over: "", min_days: "", max_days: "", pickup: false };

function ZoneForm() {
  const { api, slug } = useShopApi();
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const [countries, setCountries] = useState("");
  const [prefixes, setPrefixes] = useState("");
  const [methods, setMethods] = useState<MethodDraft[]>([{ ...NEW_METHOD }]);
  const [errors, setErrors] = useState<FieldErrors>({});
  const create = useMutation({
    mutationFn: (body: S["ShippingZoneInputRequest"]) => unwrap(api.POST("/api/admin/v1/shipping-zones", { body })),
    onSuccess: () => {
      queryClient.invalidateQueries({ queryKey: queryKeys.shop(slug).shippingZones() });
      setName("");
      setCountries("");
      setPrefixes("");
      setMethods([{ ...NEW_METHOD }]);
    },
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const found: FieldErrors = {};
    if (!name.trim()) found.name = ["The zone needs a name."];
    const parsed = parseCountries(countries);
    if (parsed.unknown.length) found.countries = [`Not country codes: ${parsed.unknown.join(", ")}.`];
    else if (!parsed.codes.length) found.countries = ["Give at least one country code, e.g. DE."];
    const named = methods.filter((method) => method.name.trim());
    const badAmount = named.some(
      (method) => parseAmount(method.price || "0") === null || (method.free_over.trim() !== "" && parseAmount(method.free_over) === null),
    );
    const badDays = named.some((method) => [method.min_days, method.max_days].some((days) => days.trim() !== "" && !/^\d{1,3}$/.test(days.trim())));
    if (badAmount) found.methods = ["Prices are amounts like 4.90."];
    else if (badDays) found.methods = ["Days are whole numbers."];
    const bodies = named.map((method) => ({
      name: method.name.trim(),
      price: parseAmount(method.price || "0") ?? "0",
      free_over: method.free_over.trim() ? parseAmount(method.free_over) : null,
      min_days: method.min_days.trim() ? Number(method.min_days) : null,
      max_days: method.max_days.trim() ? Number(method.max_days) : null,
      pickup: method.pickup,
    }));
    setErrors(found);
    if (Object.keys(found).length) return;
    create.mutate({
      name: name.trim(),
      countries: parsed.codes,
      postal_code_prefixes: prefixes.split(/[\s,;]+/).filter(Boolean),
      methods: bodies,
    });
  };
  const all = mergeErrors(errors, create.error);
  const setMethod = (index: number, change: Partial<MethodDraft>) =>
    setMethods((current) => current.map((method, i) => (i === index ? { ...method, ...change } : method)));
  return (
    <form className="narrow" onSubmit={onSubmit} noValidate>
      <Field label="Zone name" value={name} onChange={(e) => setName(e.target.value)} errors={all.name} />
      <Field
        label="Countries"
        value={countries}
        onChange={(e) => setCountries(e.target.value)}
        errors={all.countries}
        hint="Two-letter codes separated by commas, e.g. DE, AT, CH."
      />
      <Field label="Postal code prefixes (optional)" value={prefixes} onChange={(e) => setPrefixes(e.target.value)} errors={all.postal_code_prefixes} hint="Only these postal codes, e.g. 10, 12." />
      <fieldset>
        <legend>Methods</legend>
        {methods.map((method, index) => (
          <div key={index} className="form-grid">
            <Field label={`Method ${index + 1} name`} value={method.name} onChange={(e) => setMethod(index, { name: e.target.value })} />
            <Field label="Price" inputMode="decimal" value={method.price} onChange={(e) => setMethod(index, { price: e.target.value })} />
            <Field label="Free over (optional)" inputMode="decimal" value={method.free_over} onChange={(e) => setMethod(index, { free_over: e.target.value })} />
            <Field label="Min days" inputMode="numeric" value={method.min_days} onChange={(e) => setMethod(index, { min_days: e.target.value })} />
            <Field label="Max days" inputMode="numeric" value={method.max_days} onChange={(e) => setMethod(index, { max_days: e.target.value })} />
            <label className="checkbox">
              <input type="checkbox" checked={method.pickup} onChange={(e) => setMethod(index, { pickup: e.target.checked })} />
              Pickup
            </label>
          </div>
        ))}
        <button type="button" className="secondary" onClick={() => setMethods((current) => [...current, { ...NEW_METHOD }])}>
          Add a method
        </button>
        {all.methods && <p className="field-error">{all.methods.join(" ")}</p>}
      </fieldset>
      <ErrorMessage error={create.error} />
      <button type="submit" disabled={create.isPending}>
        Create zone
      </button>
    </form>
  );
}

// --- Taxes ---------------------------------------------------------------------------------

type RateDraft = { country: string; region: string; rate: string; name: string };

export function TaxesPage() {
  const { api, slug } = useShopApi();
  const taxes = useQuery({ queryKey: queryKeys.shop(slug).taxes(), queryFn: () => unwrap(api.GET("/api/admin/v1/taxes")) });
  return (
    <>
      <h1>Taxes</h1>
      {taxes.isPending && <Loading />}
      <ErrorMessage error={taxes.error} onRetry={() => taxes.refetch()} />
      {taxes.data && <TaxesForm current={taxes.data} />}
    </>
  );
}

function TaxesForm({ current }: { current: S["TaxesOutput"] }) {
  const { api, slug } = useShopApi();
  const queryClient = useQueryClient();
  const [inclusive, setInclusive] = useState(current.prices_include_tax);
  const [shippingTaxable, setShippingTaxable] = useState(current.shipping_taxable);
  const [defaultRate, setDefaultRate] = useState(current.default_rate);
  const [rates, setRates] = useState<RateDraft[]>(current.rates.map((rate) => ({ ...rate })));
  const [errors, setErrors] = useState<FieldErrors>({});
  const countries = countryOptions();
  const save = useMutation({
    mutationFn: (body: S["TaxesInputRequest"]) => unwrap(api.PUT("/api/admin/v1/taxes", { body })),
    onSuccess: (saved) => queryClient.setQueryData(queryKeys.shop(slug).taxes(), saved),
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const found: FieldErrors = {};
    const rate = parseRate(defaultRate);
    if (rate === null) found.default_rate = ["A percentage from 0 to 100, e.g. 19 or 5.5."];
    const kept = rates.filter((r) => r.country);
    if (kept.some((r) => parseRate(r.rate) === null || !r.name.trim())) found.rates = ["Each rate needs a percentage and a name."];
    setErrors(found);
    if (Object.keys(found).length) return;
    save.mutate({
      prices_include_tax: inclusive,
      shipping_taxable: shippingTaxable,
      default_rate: rate!,
      rates: kept.map((r) => ({
        country: r.country as Country,
        region: r.region.trim().toUpperCase(),
        rate: parseRate(r.rate)!,
        name: r.name.trim(),
      })),
      category_overrides: current.category_overrides.map((o) => ({ ...o, country: o.country as Country })),
    });
  };
  const all = mergeErrors(errors, save.error);
  const setRate = (index: number, change: Partial<RateDraft>) =>
    setRates((list) => list.map((r, i) => (i === index ? { ...r, ...change } : r)));
  return (
    <form className="narrow" onSubmit={onSubmit} noValidate>
      <label className="checkbox">
        <input type="checkbox" checked={inclusive} onChange={(e) => setInclusive(e.target.checked)} />
        Prices include tax
      </label>
      <label className="checkbox">
        <input type="checkbox" checked={shippingTaxable} onChange={(e) => setShippingTaxable(e.target.checked)} />
        Tax shipping
      </label>
      <Field label="Default rate (%)" inputMode="decimal" value={defaultRate} onChange={(e) => setDefaultRate(e.target.value)} errors={all.default_rate} hint="Where no country rate applies." />
      <fieldset>
        <legend>Rates by country</legend>
        {rates.map((rate, index) => (
          <div key={index} className="form-grid">
            <SelectField label={`Country ${index + 1}`} value={rate.country} onChange={(e) => setRate(index, { country: e.target.value })}>
              <option value="">Remove</option>
              {countries.map(([code, name]) => (
                <option key={code} value={code}>
                  {name}
                </option>
              ))}
            </SelectField>
            <Field label="Region (optional)" value={rate.region} maxLength={3} onChange={(e) => setRate(index, { region: e.target.value })} hint="ISO 3166-2, e.g. CA" />
            <Field label="Rate (%)" inputMode="decimal" value={rate.rate} onChange={(e) => setRate(index, { rate: e.target.value })} />
            <Field label="Name" value={rate.name} onChange={(e) => setRate(index, { name: e.target.value })} hint="Shown to shoppers, e.g. VAT" />
          </div>
        ))}
        <button type="button" className="secondary" onClick={() => setRates((list) => [...list, { country: "", region: "", rate: "", name: "" }])}>
          Add a rate
        </button>
        {all.rates && <p className="field-error">{all.rates.join(" ")}</p>}
      </fieldset>
      <ErrorMessage error={save.error} />
      {save.isSuccess && <Notice>Saved.</Notice>}
      <button type="submit" disabled={save.isPending}>
        Save taxes
      </button>
    </form>
  );
}

// --- Discounts -----------------------------------------------------------------------------

export function DiscountsPage() {
  const { api, slug } = useShopApi();
  const queryClient = useQueryClient();
  const list = useQuery({ queryKey: queryKeys.shop(slug).discounts(), queryFn: () => unwrap(api.GET("/api/admin/v1/discounts")) });
  const remove = useMutation({
    mutationFn: (id: number) => unwrap(api.DELETE("/api/admin/v1/discounts/{discount_id}", { params: { path: { discount_id: id } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.shop(slug).discounts() }),
  });
  return (
    <>
      <h1>Discounts</h1>
      <p className="muted">A cart takes one code plus every automatic promotion (no code) that applies; discounts apply before tax.</p>
      {list.isPending && <Loading />}
      <ErrorMessage error={list.error ?? remove.error} onRetry={() => list.refetch()} />
      {list.data && list.data.results.length === 0 && <Empty>No discounts yet.</Empty>}
      {list.data && list.data.results.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Code</th>
                <th scope="col">Kind</th>
                <th scope="col">Value</th>
                <th scope="col" className="num">Used</th>
                <th scope="col">Active</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.results.map((discount) => (
                <tr key={discount.id}>
                  <td>{discount.code ?? <span className="muted">automatic</span>}</td>
                  <td>{discount.kind.replace("_", " ")}</td>
                  <td>{discount.kind === "percentage" ? `${discount.value}%` : discount.value ?? "—"}</td>
                  <td className="num">
                    {discount.times_used}
                    {discount.usage_limit !== null && ` / ${discount.usage_limit}`}
                  </td>
                  <td>{discount.active ? "yes" : "no"}</td>
                  <td>
                    <button type="button" className="secondary" onClick={() => remove.mutate(discount.id)} aria-label={`Delete ${discount.code ?? "automatic discount"}`}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2>New discount</h2>
      <DiscountForm />
    </>
  );
}

function DiscountForm() {
  const { api, slug } = useShopApi();
  const queryClient = useQueryClient();
  const [code, setCode] = useState("");
  const [kind, setKind] = useState<S["DiscountInputRequest"]["kind"]>("percentage");
  const [value, setValue] = useState("");
  const [minSubtotal, setMinSubtotal] = useState("");
  const [usageLimit, setUsageLimit] = useState("");
  const [perCustomer, setPerCustomer] = useState("");
  const [endsAt, setEndsAt] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const create = useMutation({
    mutationFn: (body: S["DiscountInputRequest"]) => unwrap(api.POST("/api/admin/v1/discounts", { body })),
    onSuccess: () => {
      queryClient.invalidateQueries({ queryKey: queryKeys.shop(slug).discounts() });
      setCode("");
      setValue("");
    },
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const found: FieldErrors = {};
    if (code.trim() && !/^[A-Za-z0-9_-]{1,64}$/.test(code.trim())) found.code = ["Letters, digits, - and _ only."];
    const amount = kind === "free_shipping" ? null : parseAmount(value);
    if (kind !== "free_shipping" && (amount === null || Number(amount) <= 0)) found.value = ["An amount above 0, e.g. 10."];
    if (kind === "percentage" && amount !== null && Number(amount) > 100) found.value = ["A percentage is at most 100."];
    const limit = (text: string) => (text.trim() ? Number(text) : null);
    for (const [name, text] of [["usage_limit", usageLimit], ["usage_limit_per_customer", perCustomer]] as const) {
      if (text.trim() && !/^[1-9]\d{0,8}$/.test(text.trim())) found[name] = ["A whole number from 1."];
    }
    const minimum = minSubtotal.trim() ? parseAmount(minSubtotal) : null;
    if (minSubtotal.trim() && minimum === null) found.min_subtotal = ["An amount like 50.00."];
    setErrors(found);
    if (Object.keys(found).length) return;
    create.mutate({
      code: code.trim() || null,
      kind,
      value: amount,
      min_subtotal: minimum,
      usage_limit: limit(usageLimit),
      usage_limit_per_customer: limit(perCustomer),
      ends_at: endsAt ? new Date(endsAt).toISOString() : null,
    });
  };
  const all = mergeErrors(errors, create.error);
  return (
    <form className="narrow" onSubmit={onSubmit} noValidate>
      <Field label="Code" value={code} onChange={(e) => setCode(e.target.value)} errors={all.code} hint="Leave empty for an automatic promotion." />
      <SelectField label="Kind" value={kind} onChange={(e) => setKind(e.target.value as typeof kind)}>
        <option value="percentage">Percentage off</option>
        <option value="fixed">Fixed amount off</option>
        <option value="free_shipping">Free shipping</option>
      </SelectField>
      {kind !== "free_shipping" && (
        <Field label={kind === "percentage" ? "Percent" : "Amount"} inputMode="decimal" value={value} onChange={(e) => setValue(e.target.value)} errors={all.value} />
      )}
      <Field label="Minimum subtotal (optional)" inputMode="decimal" value={minSubtotal} onChange={(e) => setMinSubtotal(e.target.value)} errors={all.min_subtotal} />
      <Field label="Usage limit (optional)" inputMode="numeric" value={usageLimit} onChange={(e) => setUsageLimit(e.target.value)} errors={all.usage_limit} />
      <Field label="Uses per customer (optional)" inputMode="numeric" value={perCustomer} onChange={(e) => setPerCustomer(e.target.value)} errors={all.usage_limit_per_customer} />
      <Field label="Ends at (optional)" type="datetime-local" value={endsAt} onChange={(e) => setEndsAt(e.target.value)} errors={all.ends_at} />
      <ErrorMessage error={create.error} />
      <button type="submit" disabled={create.isPending}>
        Create discount
      </button>
    </form>
  );
}
