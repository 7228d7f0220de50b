import { ApiError, describeError, toApiError } from "./problems";

const problem = (body: object, status: number, headers: Record<string, string> = {}) =>
  toApiError(body, new Response(null, { status, headers }));

describe("problem responses", () => {
  it("keeps the problem and its field errors", () => {
    const error = problem(
      { type: "x", title: "Invalid input", status: 400, detail: "Check the fields.", errors: { email: ["Enter a valid e-mail."] } },
      400,
    );
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(400);
    expect(error.field("email")).toEqual(["Enter a valid e-mail."]);
    expect(describeError(error)).toBe("E-mail: Enter a valid e-mail.");
    // A form that shows the message beside its input does not repeat it.
    expect(describeError(error, { fieldsShown: ["email"] })).toBe("Check the fields marked below.");
  });

  it("words sign-in and sign-up problems for a person, not as the API's text", () => {
    const noAccount = problem(
      { type: "https://storefleet.dev/problems/no_active_account", title: "Authentication failed", status: 401,
        detail: "No active account found with the given credentials", code: "no_active_account" },
      401,
    );
    expect(describeError(noAccount)).toBe("That e-mail and password don't match an account. Check both and try again.");
    const weak = problem(
      { type: "x", title: "Bad request", status: 400, detail: "", code: "validation_failed",
        errors: { password: ["This password is too common."], "variants.0.compare_at_price": ["Must be above the price."] } },
      400,
    );
    const text = describeError(weak);
    expect(text).toBe("Password: This password is too common. Variant 1 Compare-at price: Must be above the price.");
    expect(text).not.toMatch(/Bad request|password:/);
    const taken = problem({ type: "x", title: "Conflict", status: 409, detail: "SKU X is taken.", code: "sku_taken" }, 409);
    expect(describeError(taken)).toBe("Another variant already uses this SKU. Pick another one.");
  });

  it("falls back to the problem's detail, and never shows a server error's text", () => {
    expect(describeError(problem({ type: "x", title: "Not here", status: 404, detail: "No image with that id." }, 404))).toBe(
      "No image with that id.",
    );
    expect(describeError(problem({ type: "x", title: "Oops", status: 500, detail: "Traceback" }, 500))).toMatch(/on our side/);
  });

  it("says when to retry a rate-limited request", () => {
    const error = problem({ type: "x", title: "Too many requests", status: 429, detail: "" }, 429, { "Retry-After": "12" });
    expect(error.retryAfter).toBe(12);
    expect(describeError(error)).toBe("Too many requests right now. Please try again in 12 seconds.");
  });

  it("reads a declined payment", () => {
    const error = problem({ type: "x", title: "Payment declined", status: 402, detail: "The card was declined.", code: "payment_declined" }, 402);
    expect(describeError(error)).toBe("Payment declined: The card was declined.");
  });

  it("makes a problem of a body that is none", () => {
    const error = toApiError("<html>", new Response(null, { status: 502, statusText: "Bad Gateway" }));
    expect(error.problem).toMatchObject({ status: 502, title: "Bad Gateway" });
    expect(describeError(error)).toMatch(/Something went wrong on our side/);
  });

  it("explains a network failure", () => {
    expect(describeError(new TypeError("Failed to fetch"))).toMatch(/could not be reached/);
  });
});
