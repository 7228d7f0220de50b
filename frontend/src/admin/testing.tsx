// Rendering admin pages in Vitest: the real providers (query client, session,
// router, toasts) over a fetch that answers from the test's table.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactNode } from "react";
import { MemoryRouter, Route, Routes } from "react-router-dom";
import { vi } from "vitest";
import { Session } from "../api/client";
import { SessionProvider, useCurrentShop } from "./session";
import { ToastProvider } from "./ui/toast";

export interface Call {
  method: string;
  path: string;
  /** The query string, `?` first ("" without one). */
  search: string;
  body: unknown;
}

type Answer = { status?: number; body?: unknown; headers?: Record<string, string> };
/** Answers by "METHOD /path" (no query string); a function sees the call. */
export type Answers = Record<string, Answer | ((call: Call) => Answer)>;

export const ME = {
  email: "erin@example.com",
  name: "Erin",
  memberships: [{ shop: "teas", shop_name: "E2E Teas", domain: "teas.localhost", role: "owner" }],
};

function memoryStorage(): Storage {
  const data = new Map<string, string>();
  return {
    get length() {
      return data.size;
    },
    clear: () => data.clear(),
    getItem: (key) => data.get(key) ?? null,
    key: (index) => [...data.keys()][index] ?? null,
    removeItem: (key) => void data.delete(key),
    setItem: (key, value) => void data.set(key, value),
  };
}

/** Stub fetch with `answers`; return the calls made, in order. */
export function answerWith(answers: Answers): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal("fetch", async (input: Request | string, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(input, init);
    const url = new URL(request.url);
    const text = request.method === "GET" || request.method === "DELETE" ? "" : await request.text();
    const call = { method: request.method, path: url.pathname, search: url.search, body: text ? (JSON.parse(text) as unknown) : undefined };
    calls.push(call);
    const found = answers[`${call.method} ${call.path}`] ?? (call.path === "/api/platform/v1/me" ? { body: ME } : undefined);
    const answer = typeof found === "function" ? found(call) : found;
    if (!answer) return new Response(JSON.stringify({ type: "about:blank", title: "Not found", status: 404, detail: "", code: "not_found" }), { status: 404, headers: { "Content-Type": "application/problem+json" } });
    const status = answer.status ?? 200;
    const problem = status >= 400;
    return new Response(status === 204 ? null : JSON.stringify(answer.body ?? {}), {
      status,
      headers: { "Content-Type": problem ? "application/problem+json" : "application/json", ...answer.headers },
    });
  });
  return calls;
}

/** As ShopLayout does: a shop page renders once the merchant's memberships are read. */
function WhenShop({ children }: { children: ReactNode }) {
  return useCurrentShop() ? children : <p>loading the shop</p>;
}

/** Render `element` at `path` (matched by `route`), signed in as ME unless `signedIn` is false. */
export function renderAdmin(element: ReactNode, { path = "/s/teas/page", route = "/s/:slug/page", signedIn = true } = {}) {
  const storage = memoryStorage();
  const session = new Session("http://platform.localhost", storage);
  if (signedIn) session.signIn("access", "refresh");
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  return render(
    <QueryClientProvider client={queryClient}>
      <SessionProvider session={session}>
        <MemoryRouter initialEntries={[path]}>
          <ToastProvider>
            <Routes>
              <Route path={route} element={route.startsWith("/s/:slug") ? <WhenShop>{element}</WhenShop> : element} />
              <Route path="*" element={<p>elsewhere</p>} />
            </Routes>
          </ToastProvider>
        </MemoryRouter>
      </SessionProvider>
    </QueryClientProvider>,
  );
}

export function problemBody(status: number, code: string, extra: object = {}) {
  return { type: `https://storefleet.dev/problems/${code}`, title: "Problem", status, detail: "", code, ...extra };
}
