import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { unwrap } from "../../../api/client";
import type { components } from "../../../api/generated/shop";
import { formatMoney, money, parseAmount } from "../../../api/money";
import { CountryMultiSelect, countryName } from "../../../shared/CountrySelect";
import { Empty, ErrorMessage, Field, Loading, mergeErrors, SelectField, type FieldErrors } from "../../../shared/ui";
import { queryKeys } from "../../queryKeys";
import { useShopApi } from "../../session";
import { useToast } from "../../ui/toast";

type S = components["schemas"];
type Zone = S["ShippingZoneOutput"];
type ZoneBody = S["ShippingZoneInputRequest"];
type MethodBody = S["ShippingMethodInputRequest"];
type Country = ZoneBody["countries"][number];
type RateType = NonNullable<MethodBody["rate_type"]>;

export type BandDraft = { up_to_grams: string; price: string };
export type MethodDraft = {
  id?: number;
  name: string;
  rate_type: RateType;
  price: string;
  free_over: string;
  bands: BandDraft[];
  min_days: string;
  max_days: string;
  pickup: boolean;
};
export type ZoneDraft = { name: string; countries: string[]; prefixes: string; methods: MethodDraft[] };

const NEW_BAND: BandDraft = { up_to_grams: "", price: "" };
export const NEW_METHOD: MethodDraft = { name: "", rate_type: "flat", price: "", free_over: "", bands: [], min_days: "", max_days: "", pickup: false };
const amountOf = (value: unknown) => money(value)?.amount ?? "";
const days = (value: number | null) => (value === null ? "" : String(value));

/** A zone as the form edits it (a new zone: empty, with one method to fill in). */
export function zoneDraft(zone?: Zone): ZoneDraft {
  if (!zone) return { name: "", countries: [], prefixes: "", methods: [{ ...NEW_METHOD }] };
  return {
    name: zone.name,
    countries: [...zone.countries],
    prefixes: zone.postal_code_prefixes.join(", "),
    methods: zone.methods.map((method) => ({
      id: method.id,
      name: method.name,
      rate_type: method.rate_type,
      price: amountOf(method.price),
      free_over: method.free_over ? amountOf(method.free_over) : "",
      bands: method.weight_bands.map((band) => ({ up_to_grams: String(band.up_to_grams), price: amountOf(band.price) })),
      min_days: days(method.min_days),
      max_days: days(method.max_days),
      pickup: method.pickup,
    })),
  };
}

const PREFIX_RE = /^[A-Za-z0-9 -]{1,20}$/;
const DAYS_RE = /^\d{1,3}$/;

/**
 * The API body of a drafted zone, or the mistakes in it under the API's own field names
 * (`methods.0.price`), so the client's and the server's messages land in the same places.
 * A method without a name is left out (the empty row of a new zone).
 */
export function zoneBody(draft: ZoneDraft): { body: ZoneBody | null; errors: FieldErrors } {
  const errors: FieldErrors = {};
  if (!draft.name.trim()) errors.name = ["The zone needs a name."];
  if (draft.countries.length === 0) errors.countries = ["Add at least one country."];
  const prefixes = draft.prefixes.split(/[,;\n]+/).map((prefix) => prefix.trim()).filter(Boolean);
  const badPrefix = prefixes.find((prefix) => !PREFIX_RE.test(prefix));
  if (badPrefix) errors.postal_code_prefixes = [`“${badPrefix}” is not a postal code prefix (letters, digits, spaces, dashes).`];
  const methods: MethodBody[] = [];
  draft.methods.forEach((method, index) => {
    if (!method.name.trim()) return;
    const at = `methods.${index}`;
    const price = method.rate_type === "flat" ? parseAmount(method.price || "0") : "0";
    if (price === null) errors[`${at}.price`] = ["An amount like 4.90."];
    const freeOver = method.free_over.trim() ? parseAmount(method.free_over) : null;
    if (method.free_over.trim() && freeOver === null) errors[`${at}.free_over`] = ["An amount like 50.00."];
    const bands = method.rate_type === "weight" ? method.bands.filter((band) => band.up_to_grams.trim() || band.price.trim()) : [];
    if (method.rate_type === "weight") {
      const grams = bands.map((band) => band.up_to_grams.trim());
      if (bands.length === 0) errors[`${at}.weight_bands`] = ["A weight-based method needs at least one band."];
      else if (grams.some((g) => !/^[1-9]\d{0,7}$/.test(g) || Number(g) > 10_000_000)) errors[`${at}.weight_bands`] = ["Each band's weight is whole grams from 1 to 10000000."];
      else if (new Set(grams.map(Number)).size !== grams.length) errors[`${at}.weight_bands`] = ["Each band needs its own weight."];
      else if (bands.some((band) => parseAmount(band.price) === null)) errors[`${at}.weight_bands`] = ["Each band's price is an amount like 5.90."];
    }
    const [low, high] = [method.min_days.trim(), method.max_days.trim()];
    for (const [name, text] of [["min_days", low], ["max_days", high]] as const) {
      if (text && (!DAYS_RE.test(text) || Number(text) > 365)) errors[`${at}.${name}`] = ["Whole days, 0 to 365."];
    }
    if (low && high && DAYS_RE.test(low) && DAYS_RE.test(high) && Number(low) > Number(high)) errors[`${at}.min_days`] = ["At most the max days."];
    methods.push({
      ...(method.id ? { id: method.id } : {}),
      name: method.name.trim(),
      rate_type: method.rate_type,
      price: price ?? "0",
      free_over: freeOver,
      weight_bands: bands
        .map((band) => ({ up_to_grams: Number(band.up_to_grams), price: parseAmount(band.price) ?? "0" }))
        .sort((a, b) => a.up_to_grams - b.up_to_grams),
      min_days: low ? Number(low) : null,
      max_days: high ? Number(high) : null,
      pickup: method.pickup,
    });
  });
  if (Object.keys(errors).length) return { body: null, errors };
  return {
    body: { name: draft.name.trim(), countries: draft.countries as Country[], postal_code_prefixes: prefixes, methods },
    errors,
  };
}

// --- The page ------------------------------------------------------------------------------

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
      {zones.data?.map((zone) => <ZoneCard key={zone.id} zone={zone} />)}
      <h2>New zone</h2>
      <ZoneForm />
    </>
  );
}

function methodSummary(method: Zone["methods"][number]): string {
  const parts = [
    method.rate_type === "weight"
      ? method.weight_bands.map((band) => `up to ${band.up_to_grams} g ${formatMoney(money(band.price))}`).join(", ")
      : formatMoney(money(method.price)),
  ];
  if (method.free_over) parts.push(`free over ${formatMoney(money(method.free_over))}`);
  if (method.min_days !== null && method.max_days !== null) parts.push(`${method.min_days}–${method.max_days} days`);
  if (method.pickup) parts.push("pickup");
  return parts.join(" · ");
}

function ZoneCard({ zone }: { zone: Zone }) {
  const { api, slug } = useShopApi();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [editing, setEditing] = useState(false);
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/admin/v1/shipping-zones/{zone_id}", { params: { path: { zone_id: zone.id } } })),
    onSuccess: () => {
      queryClient.invalidateQueries({ queryKey: queryKeys.shop(slug).shippingZones() });
      toast.success(`Zone ${zone.name} deleted.`);
    },
    onError: (error) => toast.error(error),
  });
  return (
    <section className="card" aria-label={`Zone ${zone.name}`}>
      <h2>{zone.name}</h2>
      {editing ? (
        <ZoneForm zone={zone} onDone={() => setEditing(false)} />
      ) : (
        <>
          <p>
            {zone.countries.map(countryName).join(", ")}
            {zone.postal_code_prefixes.length > 0 && <> · postal codes starting {zone.postal_code_prefixes.join(", ")}</>}
          </p>
          {zone.methods.length === 0 ? (
            <p className="muted">No methods: shoppers here cannot check out goods to ship.</p>
          ) : (
            <ul>
              {zone.methods.map((method) => (
                <li key={method.id}>
                  {method.name}: {methodSummary(method)}
                </li>
              ))}
            </ul>
          )}
          <div className="actions">
            <button type="button" onClick={() => setEditing(true)} aria-label={`Edit zone ${zone.name}`}>
              Edit
            </button>
            <button
              type="button"
              className="danger"
              disabled={remove.isPending}
              aria-label={`Delete zone ${zone.name}`}
              onClick={() => window.confirm(`Delete the zone “${zone.name}” and its methods?`) && remove.mutate()}
            >
              Delete
            </button>
          </div>
        </>
      )}
    </section>
  );
}

/** Create a zone, or (with `zone`) change it: its methods keep their ids, so carts keep their choice. */
function ZoneForm({ zone, onDone }: { zone?: Zone; onDone?: () => void }) {
  const { api, slug } = useShopApi();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [draft, setDraft] = useState<ZoneDraft>(() => zoneDraft(zone));
  const [errors, setErrors] = useState<FieldErrors>({});
  const save = useMutation({
    mutationFn: (body: ZoneBody) =>
      zone
        ? unwrap(api.PATCH("/api/admin/v1/shipping-zones/{zone_id}", { params: { path: { zone_id: zone.id } }, body }))
        : unwrap(api.POST("/api/admin/v1/shipping-zones", { body })),
    onSuccess: (saved) => {
      queryClient.invalidateQueries({ queryKey: queryKeys.shop(slug).shippingZones() });
      toast.success(`Zone ${saved.name} saved.`);
      if (zone) onDone?.();
      else setDraft(zoneDraft());
    },
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const { body, errors: found } = zoneBody(draft);
    setErrors(found);
    if (body) save.mutate(body);
  };
  const all = mergeErrors(errors, save.error);
  const set = (change: Partial<ZoneDraft>) => setDraft((current) => ({ ...current, ...change }));
  const setMethod = (index: number, change: Partial<MethodDraft>) =>
    set({ methods: draft.methods.map((method, i) => (i === index ? { ...method, ...change } : method)) });
  const shown = ["name", "countries", "postal_code_prefixes", ...Object.keys(all).filter((key) => key.startsWith("methods."))];
  return (
    <form className="narrow" onSubmit={onSubmit} noValidate aria-label={zone ? `Edit zone ${zone.name}` : "New zone"}>
      <Field label="Zone name" value={draft.name} onChange={(e) => set({ name: e.target.value })} errors={all.name} />
      <CountryMultiSelect label="Countries" values={draft.countries} onChange={(countries) => set({ countries })} errors={all.countries} />
      <Field
        label="Postal code prefixes (optional)"
        value={draft.prefixes}
        onChange={(e) => set({ prefixes: e.target.value })}
        errors={all.postal_code_prefixes}
        hint="Only addresses whose postal code starts so, separated by commas, e.g. 10, 12."
      />
      <fieldset>
        <legend>Methods</legend>
        {draft.methods.map((method, index) => (
          <MethodFields key={method.id ?? `new-${index}`} index={index} method={method} errors={all} onChange={(change) => setMethod(index, change)} onRemove={() => set({ methods: draft.methods.filter((_, i) => i !== index) })} />
        ))}
        <button type="button" className="secondary" onClick={() => set({ methods: [...draft.methods, { ...NEW_METHOD }] })}>
          Add a method
        </button>
        {all.methods && <p className="field-error">{all.methods.join(" ")}</p>}
      </fieldset>
      <ErrorMessage error={save.error} fieldsShown={shown} />
      <div className="actions">
        <button type="submit" disabled={save.isPending}>
          {zone ? "Save zone" : "Create zone"}
        </button>
        {zone && (
          <button type="button" className="secondary" onClick={onDone}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}

function MethodFields({
  index,
  method,
  errors,
  onChange,
  onRemove,
}: {
  index: number;
  method: MethodDraft;
  errors: FieldErrors;
  onChange: (change: Partial<MethodDraft>) => void;
  onRemove: () => void;
}) {
  const n = index + 1;
  const at = (field: string) => errors[`methods.${index}.${field}`];
  const setBand = (i: number, change: Partial<BandDraft>) => onChange({ bands: method.bands.map((band, j) => (j === i ? { ...band, ...change } : band)) });
  return (
    <div className="method-draft" role="group" aria-label={`Method ${n}`}>
      <div className="form-grid">
        <Field label={`Method ${n} name`} value={method.name} onChange={(e) => onChange({ name: e.target.value })} errors={at("name")} />
        <SelectField
          label={`Method ${n} rate`}
          value={method.rate_type}
          onChange={(e) => {
            const rateType = e.target.value as RateType;
            onChange({ rate_type: rateType, bands: rateType === "weight" && method.bands.length === 0 ? [{ ...NEW_BAND }] : method.bands });
          }}
        >
          <option value="flat">Flat rate</option>
          <option value="weight">By weight</option>
        </SelectField>
        {method.rate_type === "flat" && (
          <Field label={`Method ${n} price`} inputMode="decimal" value={method.price} onChange={(e) => onChange({ price: e.target.value })} errors={at("price")} />
        )}
        <Field label={`Method ${n} free over (optional)`} inputMode="decimal" value={method.free_over} onChange={(e) => onChange({ free_over: e.target.value })} errors={at("free_over")} hint="Free when the discounted subtotal reaches this." />
        <Field label={`Method ${n} min days`} inputMode="numeric" value={method.min_days} onChange={(e) => onChange({ min_days: e.target.value })} errors={at("min_days")} />
        <Field label={`Method ${n} max days`} inputMode="numeric" value={method.max_days} onChange={(e) => onChange({ max_days: e.target.value })} errors={at("max_days")} />
        <label className="checkbox">
          <input type="checkbox" checked={method.pickup} onChange={(e) => onChange({ pickup: e.target.checked })} />
          Method {n} is pickup (collected by the shopper)
        </label>
      </div>
      {method.rate_type === "weight" && (
        <fieldset>
          <legend>Method {n} weight bands</legend>
          <p className="muted">A cart pays the price of the first band its weight fits in; heavier carts cannot use this method.</p>
          {method.bands.map((band, i) => (
            <div key={i} className="form-grid">
              <Field label={`Band ${i + 1} up to (grams)`} inputMode="numeric" value={band.up_to_grams} onChange={(e) => setBand(i, { up_to_grams: e.target.value })} />
              <Field label={`Band ${i + 1} price`} inputMode="decimal" value={band.price} onChange={(e) => setBand(i, { price: e.target.value })} />
              <button type="button" className="secondary" aria-label={`Remove band ${i + 1} of method ${n}`} onClick={() => onChange({ bands: method.bands.filter((_, j) => j !== i) })}>
                Remove band
              </button>
            </div>
          ))}
          <button type="button" className="secondary" onClick={() => onChange({ bands: [...method.bands, { ...NEW_BAND }] })}>
            Add a band to method {n}
          </button>
          {at("weight_bands") && <p className="field-error">{at("weight_bands")!.join(" ")}</p>}
        </fieldset>
      )}
      <button type="button" className="secondary" onClick={onRemove} aria-label={`Remove method ${n}`}>
        Remove method
      </button>
    </div>
  );
}
