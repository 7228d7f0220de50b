import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter, Route, Routes } from "react-router-dom";
import { customerSession, StorefrontApiProvider } from "../api";
import { AccountPage, SignInPage } from "./Account";
import { ConfirmEmailChangePage } from "./AccountEmail";
import { OrderLookupPage } from "./Order";

const json = (body: unknown, status = 200) =>
  new Response(status === 202 ? null : JSON.stringify(body), {
    status,
    headers: { "Content-Type": status >= 400 ? "application/problem+json" : "application/json" },
  });

function renderAt(path: string, answer: (request: Request) => Response) {
  const requests: Request[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (request: Request) => {
      requests.push(request.clone());
      return answer(request);
    }),
  );
  const session = customerSession("http://shop.localhost", window.localStorage);
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  render(
    <QueryClientProvider client={queryClient}>
      <StorefrontApiProvider client={session.storefront()} session={session}>
        <MemoryRouter initialEntries={[path]}>
          <Routes>
            <Route path="/account" element={<AccountPage />} />
            <Route path="/account/signin" element={<SignInPage />} />
            <Route path="/account/email" element={<ConfirmEmailChangePage />} />
            <Route path="/orders" element={<OrderLookupPage />} />
          </Routes>
        </MemoryRouter>
      </StorefrontApiProvider>
    </QueryClientProvider>,
  );
  return { requests, session };
}

describe("shopper account", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    window.localStorage.clear();
  });

  it("sends a guest to sign in, keeps the pair, and sends it with the account's calls", async () => {
    const { requests, session } = renderAt("/account", (request) => {
      const path = new URL(request.url).pathname;
      if (path.endsWith("/customer/token")) return json({ access: "acc", refresh: "ref" });
      if (path.endsWith("/customer/me")) return json({ id: 1, email: "ada@example.com", name: "Ada", email_verified: false, signed_up_at: "2026-12-04T00:00:00Z" });
      if (path.endsWith("/customer/addresses")) return json([]);
      if (path.endsWith("/customer/orders")) return json({ results: [], next: null, previous: null });
      return json({}, 404);
    });
    await screen.findByRole("heading", { name: "Sign in" });
    await userEvent.type(screen.getByLabelText("E-mail"), "ada@example.com");
    await userEvent.type(screen.getByLabelText("Password"), "secret passphrase");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    await screen.findByText("ada@example.com");
    expect(screen.getByText("not confirmed")).toBeTruthy();
    expect(session.signedIn).toBe(true);
    const me = requests.find((request) => request.url.endsWith("/customer/me"));
    expect(me?.headers.get("Authorization")).toBe("Bearer acc");
  });

  it("says the same after finding an order, whether or not it exists", async () => {
    const { requests } = renderAt("/orders", () => json(null, 202));
    await userEvent.type(screen.getByLabelText("E-mail"), "ada@example.com");
    await userEvent.type(screen.getByLabelText("Order number"), "1001");
    await userEvent.click(screen.getByRole("button", { name: "E-mail me the link" }));
    await screen.findByText(/we have e-mailed its link there/);
    const lookup = requests.find((request) => request.url.endsWith("/orders/lookup"));
    expect(await lookup?.json()).toEqual({ email: "ada@example.com", number: 1001 });
  });

  const signedInAnswers = (extra: (path: string, request: Request) => Response | null) => (request: Request) => {
    const path = new URL(request.url).pathname;
    const answered = extra(path, request);
    if (answered) return answered;
    if (path.endsWith("/customer/me")) return json({ id: 1, email: "ada@example.com", name: "Ada", email_verified: true, signed_up_at: "2026-12-04T00:00:00Z" });
    if (path.endsWith("/customer/addresses")) return json([]);
    if (path.endsWith("/customer/orders")) return json({ results: [], next: null, previous: null });
    return json({}, 404);
  };

  it("asks for a link to a new e-mail with the password, and shows a wrong password beside its field", async () => {
    customerSession("http://shop.localhost", window.localStorage).signIn("acc", "ref");
    let attempts = 0;
    const { requests } = renderAt(
      "/account",
      signedInAnswers((path) => {
        if (!path.endsWith("/customer/email-change")) return null;
        attempts += 1;
        return attempts === 1
          ? json({ type: "about:blank", title: "Wrong password", status: 400, code: "password_incorrect", detail: "The password is wrong.", errors: { password: ["Wrong password."] } }, 400)
          : json(null, 202);
      }),
    );
    await screen.findByRole("heading", { name: "Change e-mail" });
    await userEvent.click(screen.getByRole("button", { name: "E-mail me a link" }));
    expect(screen.getByText("Enter a valid e-mail address.")).toBeTruthy();
    expect(requests.some((request) => request.url.endsWith("/customer/email-change"))).toBe(false);
    await userEvent.click(screen.getByLabelText("New e-mail"));
    await userEvent.paste("ada.l@example.com");
    await userEvent.click(screen.getByLabelText("Current password"));
    await userEvent.paste("not it");
    await userEvent.click(screen.getByRole("button", { name: "E-mail me a link" }));
    await screen.findByText("Wrong password.");
    await userEvent.clear(screen.getByLabelText("Current password"));
    await userEvent.paste("secret passphrase");
    await userEvent.click(screen.getByRole("button", { name: "E-mail me a link" }));
    await screen.findByText(/We have e-mailed a link to ada.l@example.com/);
    const sent = requests.filter((request) => request.url.endsWith("/customer/email-change"));
    expect(await sent[1]?.json()).toEqual({ email: "ada.l@example.com", password: "secret passphrase" });
    expect(sent[1]?.headers.get("Authorization")).toBe("Bearer acc");
  });

  it("signs out on the server, then forgets the tokens here", async () => {
    customerSession("http://shop.localhost", window.localStorage).signIn("acc", "ref");
    const { requests, session } = renderAt(
      "/account",
      signedInAnswers((path) => (path.endsWith("/customer/logout") ? new Response(null, { status: 204 }) : null)),
    );
    await screen.findByText("ada@example.com");
    await userEvent.click(screen.getByRole("button", { name: "Sign out" }));
    await screen.findByRole("heading", { name: "Sign in" });
    const logout = requests.find((request) => request.url.endsWith("/customer/logout"));
    expect(logout?.method).toBe("POST");
    expect(logout?.headers.get("Authorization")).toBe("Bearer acc");
    expect(session.signedIn).toBe(false);
  });

  it("confirms a new e-mail from the link, sending its token once", async () => {
    let calls = 0;
    const { requests } = renderAt("/account/email?token=tok%2Fen", () => {
      calls += 1;
      return calls === 1
        ? json({ id: 1, email: "new@example.com", name: "Ada", email_verified: true, signed_up_at: "2026-12-04T00:00:00Z" })
        : json({ type: "about:blank", title: "Link", status: 400, code: "customer_link_invalid", detail: "Used." }, 400);
    });
    await screen.findByText(/Your account's e-mail is now new@example.com/);
    const sent = requests.filter((request) => request.url.endsWith("/customer/email-change/confirm"));
    expect(sent).toHaveLength(1);
    expect(await sent[0]?.json()).toEqual({ token: "tok/en" });
  });
});
