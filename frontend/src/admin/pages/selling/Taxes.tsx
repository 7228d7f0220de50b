import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { unwrap } from "../../../api/client";
import type { components } from "../../../api/generated/shop";
import { CountryOptions } from "../../../shared/CountrySelect";
import { fetchRegions, RegionSelect, REGIONS_STALE_MS } from "../../../shared/RegionSelect";
import { ErrorMessage, Field, Loading, mergeErrors, SelectField, type FieldErrors } from "../../../shared/ui";
import { queryKeys } from "../../queryKeys";
import { useShopApi } from "../../session";
import { useToast } from "../../ui/toast";
import { categoryTree, useCategoryList } from "../Categories";

type S = components["schemas"];
type TaxesBody = S["TaxesInputRequest"];
type Country = S["TaxRateInputRequest"]["country"];

export type RateDraft = { country: string; region: string; rate: string; name: string };
export type OverrideDraft = { category: string; country: string; rate: string; name: string };
export type TaxesDraft = { inclusive: boolean; shippingTaxable: boolean; defaultRate: string; rates: RateDraft[]; overrides: OverrideDraft[] };

/** A tax rate as the API takes it: percent, 0 to 100, at most four decimals. */
export function parseRate(input: string): string | null {
  const trimmed = input.trim().replace(",", ".");
  if (!/^\d{1,3}(\.\d{1,4})?$/.test(trimmed) || Number(trimmed) > 100) return null;
  return trimmed;
}

export function taxesDraft(current: S["TaxesOutput"]): TaxesDraft {
  return {
    inclusive: current.prices_include_tax,
    shippingTaxable: current.shipping_taxable,
    defaultRate: current.default_rate,
    rates: current.rates.map((rate) => ({ ...rate })),
    overrides: current.category_overrides.map((o) => ({ category: String(o.category), country: o.country, rate: o.rate, name: o.name })),
  };
}

/**
 * The PUT body of the drafted settings, or the mistakes in it under the API's field
 * names (`rates.1.rate`). A row without a country (rates) or category (overrides) is
 * left out: it is how a row is removed or left unused.
 */
export function taxesBody(draft: TaxesDraft): { body: TaxesBody | null; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const defaultRate = parseRate(draft.defaultRate);
  if (defaultRate === null) errors.default_rate = ["A percentage from 0 to 100, e.g. 19 or 5.5."];
  const places = new Set<string>();
  draft.rates.forEach((rate, index) => {
    if (!rate.country) return;
    if (parseRate(rate.rate) === null) errors[`rates.${index}.rate`] = ["A percentage from 0 to 100."];
    if (!rate.name.trim()) errors[`rates.${index}.name`] = ["Name the tax, e.g. VAT."];
    const place = `${rate.country}-${rate.region}`;
    if (places.has(place)) errors[`rates.${index}.country`] = ["One rate per country (and region)."];
    places.add(place);
  });
  const pairs = new Set<string>();
  draft.overrides.forEach((override, index) => {
    if (!override.category) return;
    if (!override.country) errors[`category_overrides.${index}.country`] = ["Choose the country it applies in."];
    if (parseRate(override.rate) === null) errors[`category_overrides.${index}.rate`] = ["A percentage from 0 to 100."];
    if (!override.name.trim()) errors[`category_overrides.${index}.name`] = ["Name the tax, e.g. VAT reduced."];
    const pair = `${override.category}-${override.country}`;
    if (pairs.has(pair)) errors[`category_overrides.${index}.category`] = ["One override per category and country."];
    pairs.add(pair);
  });
  if (Object.keys(errors).length) return { body: null, errors };
  return {
    body: {
      prices_include_tax: draft.inclusive,
      shipping_taxable: draft.shippingTaxable,
      default_rate: defaultRate!,
      rates: draft.rates
        .filter((rate) => rate.country)
        .map((rate) => ({ country: rate.country as Country, region: rate.region, rate: parseRate(rate.rate)!, name: rate.name.trim() })),
      category_overrides: draft.overrides
        .filter((override) => override.category)
        .map((o) => ({ category: Number(o.category), country: o.country as Country, rate: parseRate(o.rate)!, name: o.name.trim() })),
    },
    errors,
  };
}

export function TaxesPage() {
  const { api, slug } = useShopApi();
  const taxes = useQuery({ queryKey: queryKeys.shop(slug).taxes(), queryFn: () => unwrap(api.GET("/api/admin/v1/taxes")) });
  return (
    <>
      <h1>Taxes</h1>
      <p className="muted">
        The most specific rate applies: a category&rsquo;s override for the country, else the region&rsquo;s rate, else the
        country&rsquo;s, else the default rate.
      </p>
      {taxes.isPending && <Loading />}
      <ErrorMessage error={taxes.error} onRetry={() => taxes.refetch()} />
      {taxes.data && <TaxesForm current={taxes.data} />}
    </>
  );
}

/** A country's regions for a rate's region picker, from the one list the API checks. */
function useRegions(country: string) {
  const { api, slug } = useShopApi();
  return useQuery({
    queryKey: queryKeys.shop(slug).regions(country),
    enabled: Boolean(country),
    staleTime: REGIONS_STALE_MS,
    queryFn: () => fetchRegions(api, country),
  });
}

function RateRow({ index, rate, errors, onChange }: { index: number; rate: RateDraft; errors: FieldErrors; onChange: (change: Partial<RateDraft>) => void }) {
  const regions = useRegions(rate.country);
  const at = (field: string) => errors[`rates.${index}.${field}`];
  return (
    <div className="form-grid">
      <SelectField label={`Country ${index + 1}`} value={rate.country} onChange={(e) => onChange({ country: e.target.value, region: "" })} errors={at("country")}>
        <option value="">Remove</option>
        <CountryOptions />
      </SelectField>
      <RegionSelect label={`Region ${index + 1}`} emptyLabel="Whole country" value={rate.region} regions={regions.data} onChange={(region) => onChange({ region })} errors={at("region")} />
      <Field label="Rate (%)" inputMode="decimal" value={rate.rate} onChange={(e) => onChange({ rate: e.target.value })} errors={at("rate")} />
      <Field label="Name" value={rate.name} onChange={(e) => onChange({ name: e.target.value })} hint="Shown to shoppers, e.g. VAT" errors={at("name")} />
    </div>
  );
}

function TaxesForm({ current }: { current: S["TaxesOutput"] }) {
  const { api, slug } = useShopApi();
  const queryClient = useQueryClient();
  const toast = useToast();
  const categories = useCategoryList();
  const [draft, setDraft] = useState<TaxesDraft>(() => taxesDraft(current));
  const [errors, setErrors] = useState<FieldErrors>({});
  const save = useMutation({
    mutationFn: (body: TaxesBody) => unwrap(api.PUT("/api/admin/v1/taxes", { body })),
    onSuccess: (saved) => {
      queryClient.setQueryData(queryKeys.shop(slug).taxes(), saved);
      toast.success("Taxes saved.");
    },
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const { body, errors: found } = taxesBody(draft);
    setErrors(found);
    if (body) save.mutate(body);
  };
  const all = mergeErrors(errors, save.error);
  const set = (change: Partial<TaxesDraft>) => setDraft((d) => ({ ...d, ...change }));
  const setRate = (index: number, change: Partial<RateDraft>) => set({ rates: draft.rates.map((r, i) => (i === index ? { ...r, ...change } : r)) });
  const setOverride = (index: number, change: Partial<OverrideDraft>) =>
    set({ overrides: draft.overrides.map((o, i) => (i === index ? { ...o, ...change } : o)) });
  const tree = categoryTree(categories.data?.results ?? []);
  const shown = ["default_rate", ...Object.keys(all).filter((key) => /^(rates|category_overrides)\.\d+\./.test(key))];
  return (
    <form className="narrow" onSubmit={onSubmit} noValidate>
      <label className="checkbox">
        <input type="checkbox" checked={draft.inclusive} onChange={(e) => set({ inclusive: e.target.checked })} />
        Prices include tax
      </label>
      <label className="checkbox">
        <input type="checkbox" checked={draft.shippingTaxable} onChange={(e) => set({ shippingTaxable: e.target.checked })} />
        Tax shipping
      </label>
      <Field label="Default rate (%)" inputMode="decimal" value={draft.defaultRate} onChange={(e) => set({ defaultRate: e.target.value })} errors={all.default_rate} hint="Where no country rate applies." />
      <fieldset>
        <legend>Rates by country and region</legend>
        {draft.rates.map((rate, index) => (
          <RateRow key={index} index={index} rate={rate} errors={all} onChange={(change) => setRate(index, change)} />
        ))}
        <button type="button" className="secondary" onClick={() => set({ rates: [...draft.rates, { country: "", region: "", rate: "", name: "" }] })}>
          Add a rate
        </button>
        {all.rates && <p className="field-error">{all.rates.join(" ")}</p>}
      </fieldset>
      <fieldset>
        <legend>Reduced rates by category</legend>
        <p className="muted">A category&rsquo;s own rate in a country (books, food...), instead of the country&rsquo;s.</p>
        {draft.overrides.map((override, index) => {
          const at = (field: string) => all[`category_overrides.${index}.${field}`];
          return (
            <div key={index} className="form-grid" role="group" aria-label={`Override ${index + 1}`}>
              <SelectField label={`Override ${index + 1} category`} value={override.category} onChange={(e) => setOverride(index, { category: e.target.value })} errors={at("category")}>
                <option value="">Remove</option>
                {tree.map(({ category, depth }) => (
                  <option key={category.id} value={category.id}>
                    {"— ".repeat(depth)}
                    {category.name}
                  </option>
                ))}
                {override.category && !tree.some(({ category }) => String(category.id) === override.category) && (
                  <option value={override.category}>Category {override.category}</option>
                )}
              </SelectField>
              <SelectField label={`Override ${index + 1} country`} value={override.country} onChange={(e) => setOverride(index, { country: e.target.value })} errors={at("country")}>
                <option value="">Choose a country</option>
                <CountryOptions />
              </SelectField>
              <Field label={`Override ${index + 1} rate (%)`} inputMode="decimal" value={override.rate} onChange={(e) => setOverride(index, { rate: e.target.value })} errors={at("rate")} />
              <Field label={`Override ${index + 1} name`} value={override.name} onChange={(e) => setOverride(index, { name: e.target.value })} errors={at("name")} />
            </div>
          );
        })}
        {categories.data?.results.length === 0 ? (
          <p className="muted">The shop has no categories yet.</p>
        ) : (
          <button type="button" className="secondary" onClick={() => set({ overrides: [...draft.overrides, { category: "", country: "", rate: "", name: "" }] })}>
            Add a category rate
          </button>
        )}
        <ErrorMessage error={categories.error} onRetry={() => categories.refetch()} />
        {all.category_overrides && <p className="field-error">{all.category_overrides.join(" ")}</p>}
      </fieldset>
      <ErrorMessage error={save.error} fieldsShown={shown} />
      <button type="submit" disabled={save.isPending}>
        Save taxes
      </button>
    </form>
  );
}
