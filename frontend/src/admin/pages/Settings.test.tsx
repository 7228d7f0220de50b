import { validateExpiryHours } from "./Settings";

describe("payment settings", () => {
  it("accepts whole hours from 1 to 30 days", () => {
    expect(validateExpiryHours("24")).toEqual({});
    expect(validateExpiryHours(" 720 ")).toEqual({});
  });

  it("refuses anything else before asking the server", () => {
    for (const bad of ["0", "721", "1.5", "", "twelve", "-3"]) {
      expect(validateExpiryHours(bad).manual_expiry_hours).toEqual(["Whole hours from 1 to 720."]);
    }
  });
});
