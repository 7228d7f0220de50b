import { formatDistance, validateDirectorySearch } from "./Directory";

const form = { latitude: "48.8566", longitude: "2.3522", radius: "25", q: "", category: "" };

describe("directory search", () => {
  it("builds the query the API takes", () => {
    expect(validateDirectorySearch({ ...form, q: " bread ", category: "bakery" })).toEqual({
      search: { near: "48.8566,2.3522", radius_km: 25, q: "bread", category: "bakery" },
    });
  });

  it("refuses what the API would refuse, before asking it", () => {
    const bad = [
      { latitude: "91" },
      { latitude: "NaN" },
      { latitude: "1e3" },
      { longitude: "-180.5" },
      { longitude: "" },
      { radius: "0" },
      { radius: "-5" },
      { radius: "2001" },
      { category: "Bakery!" },
      { q: "x".repeat(101) },
    ];
    for (const change of bad) {
      expect(validateDirectorySearch({ ...form, ...change })).toHaveProperty("errors");
    }
  });

  it("shows distances in metres or kilometres", () => {
    expect(formatDistance(0.25)).toBe("250 m");
    expect(formatDistance(3.456)).toBe("3.5 km");
    expect(formatDistance(877.46)).toBe("877 km");
  });
});
