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
    expect(describeError(error)).toBe("Invalid input. email: Enter a valid e-mail.");
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
    expect(describeError(error)).toBe("Bad Gateway: The server answered 502.");
  });

  it("explains a network failure", () => {
    expect(describeError(new TypeError("Failed to fetch"))).toMatch(/could not be reached/);
  });
});
