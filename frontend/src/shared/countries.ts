import { COUNTRIES } from "./CountrySelect";

/**
 * ISO 3166-1 alpha-2 country codes, the list the API checks addresses and shipping zones
 * against (pycountry; tests/orders/test_pricing.py holds the two equal). One list of
 * countries in the SPA: CountrySelect's, with their names.
 */
export const COUNTRY_CODES: readonly string[] = COUNTRIES.map(([code]) => code).sort();

/** [code, name] pairs sorted by name, for a country <select>. */
export function countryOptions(): [string, string][] {
  return COUNTRIES.map(([code, name]): [string, string] => [code, name]);
}
