import { parseCountries, parseRate } from "./Selling";
import { COUNTRY_CODES, countryOptions } from "../../shared/countries";

describe("selling settings input", () => {
  it("reads country codes, and names what is not one", () => {
    expect(parseCountries("de, AT;ch  de")).toEqual({ codes: ["DE", "AT", "CH"], unknown: [] });
    expect(parseCountries("DE, XX, Germany")).toEqual({ codes: ["DE"], unknown: ["XX", "GERMANY"] });
  });

  it("takes rates from 0 to 100 with at most four decimals", () => {
    expect(parseRate("19")).toBe("19");
    expect(parseRate("5,5")).toBe("5.5");
    expect(parseRate("8.875")).toBe("8.875");
    for (const bad of ["-1", "100.5", "101", "1.23456", "abc", ""]) expect(parseRate(bad)).toBeNull();
  });

  it("offers every ISO country by name", () => {
    const options = countryOptions();
    expect(options).toHaveLength(COUNTRY_CODES.length);
    expect(options).toContainEqual(["DE", "Germany"]);
  });
});
