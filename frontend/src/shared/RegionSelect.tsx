import type { ChangeEvent } from "react";
import { unwrap, type ShopClient } from "../api/client";
import type { components } from "../api/generated/shop";
import { SelectField } from "./ui";

export type Region = components["schemas"]["RegionOutput"];

/**
 * A country's ISO 3166-2 regions, read from the Storefront API (the very list the API
 * checks `region` against) when a country is picked: thousands of them would weigh
 * on the bundle, one country's are a few kilobytes, cached by the browser for a day.
 */
export function fetchRegions(api: ShopClient, country: string): Promise<Region[]> {
  return unwrap(api.GET("/api/storefront/v1/countries/{country}/regions", { params: { path: { country } } }));
}

/** Regions are the same for every shop and change only with a deploy. */
export const REGIONS_STALE_MS = 24 * 60 * 60 * 1000;

type RegionSelectProps = {
  label?: string;
  value: string;
  onChange: (code: string) => void;
  /** The country's regions; nothing is shown while they load, or for a country without any. */
  regions: readonly Region[] | undefined;
  errors?: string[];
  id?: string;
  /** What the empty choice says: "Any" where no region means the whole country. */
  emptyLabel?: string;
};

/** A region (state, province...) of the chosen country, picked by name; its value is the code after the dash. */
export function RegionSelect({ label = "State / province (optional)", value, onChange, regions, errors, id, emptyLabel = "None" }: RegionSelectProps) {
  if (!regions || regions.length === 0) return null;
  return (
    <SelectField
      id={id}
      label={label}
      autoComplete="address-level1"
      value={value}
      errors={errors}
      onChange={(event: ChangeEvent<HTMLSelectElement>) => onChange(event.target.value)}
    >
      <option value="">{emptyLabel}</option>
      {regions.map((region) => (
        <option key={region.code} value={region.code}>
          {region.name}
        </option>
      ))}
    </SelectField>
  );
}

/** Whether `code` is one of `regions` (empty is always allowed: a region is optional). */
export function regionAllowed(code: string, regions: readonly Region[] | undefined): boolean {
  return !code || (regions ?? []).some((region) => region.code === code);
}
