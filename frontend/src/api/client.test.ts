import { cursorOf, newIdempotencyKey, Session, shopOrigin, storefrontClient, unwrap } from "./client";
import { formatMoney, parseAmount } from "./money";
import { ApiError } from "./problems";

function json(body: unknown, status = 200, type = "application/json") {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": type } });
}

describe("client helpers", () => {
  it("builds a shop's origin from the page's scheme and port", () => {
    expect(shopOrigin("demo.localhost", { protocol: "http:", port: "8000" } as Location)).toBe("http://demo.localhost:8000");
    expect(shopOrigin("shop.example", { protocol: "https:", port: "" } as Location)).toBe("https://shop.example");
  });

  it("reads the cursor of a next link", () => {
    expect(cursorOf("http://demo.localhost/api/storefront/v1/products?cursor=abc%3D&q=mug")).toBe("abc=");
    expect(cursorOf(null)).toBeUndefined();
  });

  it("makes a fresh v4 idempotency key each time", () => {
    const key = newIdempotencyKey();
    expect(key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(newIdempotencyKey()).not.toBe(key);
  });

  it("formats money from decimal strings and checks amounts", () => {
    expect(formatMoney({ amount: "1234.50", currency: "EUR" }, "en-US")).toBe("€1,234.50");
    expect(parseAmount("19,99")).toBe("19.99");
    expect(parseAmount("19.999")).toBeNull();
    expect(parseAmount("-1")).toBeNull();
  });
});

describe("typed calls", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("unwraps data and turns problems into ApiError", async () => {
    const fetchMock = vi.fn(async (request: Request) =>
      request.url.endsWith("/shop")
        ? json({ name: "Demo", slug: "demo", currency: "EUR" })
        : json({ type: "x", title: "Not found", status: 404, detail: "No product 'nope'." }, 404, "application/problem+json"),
    );
    vi.stubGlobal("fetch", fetchMock);
    const api = storefrontClient("http://demo.localhost:8000");
    await expect(unwrap(api.GET("/api/storefront/v1/shop"))).resolves.toEqual({ name: "Demo", slug: "demo", currency: "EUR" });
    const failure = unwrap(api.GET("/api/storefront/v1/products/{slug}", { params: { path: { slug: "nope" } } }));
    await expect(failure).rejects.toBeInstanceOf(ApiError);
    await expect(failure).rejects.toMatchObject({ problem: { status: 404, detail: "No product 'nope'." } });
    expect((fetchMock.mock.calls[0]![0] as Request).url).toBe("http://demo.localhost:8000/api/storefront/v1/shop");
  });

  it("refreshes an expired access token once and retries", async () => {
    const seen: string[] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (input: Request | string, init?: RequestInit) => {
        const request = typeof input === "string" ? new Request(input, init) : input;
        seen.push(`${request.method} ${new URL(request.url).pathname} ${request.headers.get("Authorization") ?? ""}`);
        if (request.url.endsWith("/auth/token/refresh")) return json({ access: "new", refresh: "rotated" });
        return request.headers.get("Authorization") === "Bearer new"
          ? json({ id: 1, email: "m@example.com", name: "", is_staff: false, memberships: [] })
          : json({ type: "x", title: "Unauthorized", status: 401, detail: "Token expired." }, 401);
      }),
    );
    const storage = window.localStorage;
    const session = new Session("http://localhost:8000", storage);
    session.signIn("old", "refresh-token");
    const me = await unwrap(session.platform().GET("/api/platform/v1/me"));
    expect(me.email).toBe("m@example.com");
    expect(session.access).toBe("new");
    expect(storage.getItem("storefleet.refresh")).toBe("rotated"); // the spent one is never sent again
    expect(seen).toEqual([
      "GET /api/platform/v1/me Bearer old",
      "POST /api/platform/v1/auth/token/refresh ",
      "GET /api/platform/v1/me Bearer new",
    ]);
  });

  it("revokes the refresh token when the merchant signs out", async () => {
    const sent: string[] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (input: Request | string, init?: RequestInit) => {
        const request = typeof input === "string" ? new Request(input, init) : input;
        sent.push(`${request.method} ${new URL(request.url).pathname} ${await request.text()}`);
        return new Response(null, { status: 204 });
      }),
    );
    const session = new Session("http://localhost:8000", window.localStorage);
    session.signIn("access", "refresh-1");
    await session.logOut();
    expect(session.signedIn).toBe(false);
    expect(sent).toEqual(['POST /api/platform/v1/auth/logout {"refresh":"refresh-1"}']);
  });

  it("signs out when the refresh token is refused too", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => json({ type: "x", title: "Unauthorized", status: 401, detail: "" }, 401)),
    );
    const session = new Session("http://localhost:8000", window.localStorage);
    session.signIn("old", "stale");
    const listener = vi.fn();
    session.subscribe(listener);
    await expect(unwrap(session.platform().GET("/api/platform/v1/me"))).rejects.toMatchObject({ status: 401 });
    expect(session.signedIn).toBe(false);
    expect(listener).toHaveBeenCalled();
  });
});
