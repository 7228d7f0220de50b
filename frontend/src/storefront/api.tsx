import { createContext, useContext, useMemo, useState, useSyncExternalStore, type ReactNode } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { CUSTOMER_SESSION, Session, unwrap, type ShopClient } from "../api/client";
import { ApiError } from "../api/problems";
import type { Cart, CategoryNode, ContentPage, ShippingAddress, Theme } from "./types";

const ClientContext = createContext<ShopClient | null>(null);
const SessionContext = createContext<Session | null>(null);

/** The shopper's session with this shop (their account), kept in this host's localStorage. */
export function customerSession(origin: string = window.location.origin, storage: Storage = window.localStorage): Session {
  return new Session(origin, storage, CUSTOMER_SESSION);
}

/**
 * The Storefront API client, sending the signed-in customer's token (a guest sends none).
 * Tests pass their own client and session.
 */
export function StorefrontApiProvider({ client, session, children }: { client?: ShopClient; session?: Session; children: ReactNode }) {
  const [value] = useState(() => {
    const chosen = session ?? customerSession();
    return { session: chosen, client: client ?? chosen.storefront() };
  });
  return (
    <SessionContext.Provider value={value.session}>
      <ClientContext.Provider value={value.client}>{children}</ClientContext.Provider>
    </SessionContext.Provider>
  );
}

export function useCustomerSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useCustomerSession outside StorefrontApiProvider");
  return session;
}

/** Whether a customer is signed in, re-rendering on sign-in and sign-out. */
export function useSignedIn(): boolean {
  const session = useCustomerSession();
  return useSyncExternalStore(
    (listener) => session.subscribe(listener),
    () => session.signedIn,
  );
}

export function useCustomer() {
  const api = useApi();
  const signedIn = useSignedIn();
  return useQuery({
    queryKey: ["customer", "me", signedIn],
    enabled: signedIn,
    retry: false,
    queryFn: () => unwrap(api.GET("/api/storefront/v1/customer/me")),
  });
}

export function useApi(): ShopClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error("useApi outside StorefrontApiProvider");
  return client;
}

export function useShop() {
  const api = useApi();
  return useQuery({
    queryKey: ["shop"],
    queryFn: () => unwrap(api.GET("/api/storefront/v1/shop")),
    staleTime: 5 * 60_000,
  });
}

export function useTheme() {
  const api = useApi();
  return useQuery({
    queryKey: ["theme"],
    queryFn: async (): Promise<Theme> => unwrap(api.GET("/api/storefront/v1/theme")),
    staleTime: 5 * 60_000,
  });
}

export function useContentPage(kind: string) {
  const api = useApi();
  return useQuery({
    queryKey: ["content-page", kind],
    queryFn: async (): Promise<ContentPage> =>
      unwrap(api.GET("/api/storefront/v1/pages/{kind}", { params: { path: { kind: kind as ContentPage["kind"] } } })),
    staleTime: 5 * 60_000,
  });
}

export function useCategories() {
  const api = useApi();
  return useQuery({
    queryKey: ["categories"],
    // The schema types children as plain objects; they are categories of the same shape.
    queryFn: async () => (await unwrap(api.GET("/api/storefront/v1/categories"))) as CategoryNode[],
    staleTime: 5 * 60_000,
  });
}

/** The category with this slug anywhere in the tree. */
export function findCategory(tree: CategoryNode[], slug: string): CategoryNode | undefined {
  for (const node of tree) {
    if (node.slug === slug) return node;
    const found = findCategory(node.children ?? [], slug);
    if (found) return found;
  }
  return undefined;
}

// --- the cart: its id in localStorage (per shop host), its contents in the shop's database ---

const CART_KEY = "storefleet.cart";
const NOTICE_KEY = "storefleet.cart-notice";
const cartListeners = new Set<() => void>();

function storedCartId(): string | null {
  return window.localStorage.getItem(CART_KEY);
}

function storeCartId(id: string | null): void {
  if (id === null) window.localStorage.removeItem(CART_KEY);
  else {
    window.localStorage.setItem(CART_KEY, id);
    window.sessionStorage.removeItem(NOTICE_KEY); // a new cart: what happened to the old one is told
  }
  for (const listener of cartListeners) listener();
}

export function forgetCart(): void {
  storeCartId(null);
}

/** Make a cart the shopper's (e.g. the one a re-order filled). */
export function adoptCart(id: string): void {
  storeCartId(id);
}

/** Why the shopper's cart is gone, to tell them instead of showing an empty cart without a word. */
export type CartNotice = { kind: "lost" } | { kind: "ordered"; order: number | null };

/** Forget the cart and remember why: it could not be found, or it already became an order. */
export function loseCart(notice: CartNotice): void {
  window.sessionStorage.setItem(NOTICE_KEY, JSON.stringify(notice));
  storeCartId(null);
}

export function useCartNotice(): CartNotice | null {
  const stored = useSyncExternalStore(
    (listener) => {
      cartListeners.add(listener);
      return () => cartListeners.delete(listener);
    },
    () => window.sessionStorage.getItem(NOTICE_KEY),
  );
  return useMemo(() => (stored ? (JSON.parse(stored) as CartNotice) : null), [stored]);
}

/** What a refusal says about the cart itself: gone (404) or already ordered (409), else nothing. */
export function cartNoticeFor(error: unknown): CartNotice | null {
  if (!(error instanceof ApiError)) return null;
  if (error.status === 404 && error.problem.code === "cart_not_found") return { kind: "lost" };
  if (error.status === 409 && error.problem.code === "cart_checked_out") {
    const order = (error.problem as { order?: unknown }).order;
    return { kind: "ordered", order: typeof order === "number" ? order : null };
  }
  return null;
}

/** The cart's id, re-rendering every user of it when a cart is started or forgotten. */
function useCartId(): string | null {
  return useSyncExternalStore((listener) => {
    cartListeners.add(listener);
    return () => cartListeners.delete(listener);
  }, storedCartId);
}

export function useCart() {
  const api = useApi();
  const id = useCartId();
  return useQuery({
    queryKey: ["cart", id],
    enabled: id !== null,
    retry: false,
    queryFn: async (): Promise<Cart | null> => {
      try {
        return await unwrap(api.GET("/api/storefront/v1/carts/{cart_id}", { params: { path: { cart_id: id! } } }));
      } catch (error) {
        const notice = cartNoticeFor(error);
        if (notice) {
          loseCart(notice); // the next add starts a new one
          return null;
        }
        throw error;
      }
    },
  });
}

export function useAddToCart() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async ({ variant, quantity }: { variant: number; quantity: number }) => {
      const add = (cartId: string) =>
        unwrap(
          api.POST("/api/storefront/v1/carts/{cart_id}/items", {
            params: { path: { cart_id: cartId } },
            body: { variant, quantity },
          }),
        );
      const cartId = storedCartId();
      if (cartId) {
        try {
          return await add(cartId);
        } catch (error) {
          if (!cartNoticeFor(error)) throw error; // gone or already ordered: start a new cart
        }
      }
      const cart = await unwrap(api.POST("/api/storefront/v1/carts"));
      storeCartId(cart.id);
      return add(cart.id);
    },
    onSuccess: (cart) => queryClient.setQueryData(["cart", cart.id], cart),
  });
}

export function useUpdateCartLine() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async ({ cartId, item, quantity }: { cartId: string; item: number; quantity: number }) => {
      if (quantity <= 0) {
        await unwrap(
          api.DELETE("/api/storefront/v1/carts/{cart_id}/items/{item_id}", {
            params: { path: { cart_id: cartId, item_id: item } },
          }),
        );
        return unwrap(api.GET("/api/storefront/v1/carts/{cart_id}", { params: { path: { cart_id: cartId } } }));
      }
      return unwrap(
        api.PATCH("/api/storefront/v1/carts/{cart_id}/items/{item_id}", {
          params: { path: { cart_id: cartId, item_id: item } },
          body: { quantity },
        }),
      );
    },
    onSuccess: (cart) => queryClient.setQueryData(["cart", cart.id], cart),
  });
}

/** The cart's address, shipping method and discount code: each answers the cart, re-priced. */
export function useCartChoices() {
  const api = useApi();
  const queryClient = useQueryClient();
  const done = { onSuccess: (cart: Cart) => queryClient.setQueryData(["cart", cart.id], cart) };
  return {
    address: useMutation({
      mutationFn: ({ cartId, address }: { cartId: string; address: ShippingAddress }) =>
        unwrap(
          api.PUT("/api/storefront/v1/carts/{cart_id}/shipping-address", {
            params: { path: { cart_id: cartId } },
            body: address,
          }),
        ),
      onSuccess: (cart: Cart) => {
        done.onSuccess(cart);
        queryClient.invalidateQueries({ queryKey: ["shipping-methods", cart.id] });
      },
    }),
    method: useMutation({
      mutationFn: ({ cartId, method }: { cartId: string; method: number }) =>
        unwrap(
          api.PUT("/api/storefront/v1/carts/{cart_id}/shipping-method", {
            params: { path: { cart_id: cartId } },
            body: { method },
          }),
        ),
      ...done,
    }),
    applyCode: useMutation({
      mutationFn: ({ cartId, code }: { cartId: string; code: string }) =>
        unwrap(
          api.POST("/api/storefront/v1/carts/{cart_id}/discount-codes", {
            params: { path: { cart_id: cartId } },
            body: { code },
          }),
        ),
      ...done,
    }),
    removeCode: useMutation({
      mutationFn: ({ cartId, code }: { cartId: string; code: string }) =>
        unwrap(
          api.DELETE("/api/storefront/v1/carts/{cart_id}/discount-codes/{code}", {
            params: { path: { cart_id: cartId, code } },
          }),
        ),
      ...done,
    }),
  };
}

/** The shipping methods for the cart's address and contents, priced. */
export function useShippingMethods(cartId: string | undefined, enabled: boolean) {
  const api = useApi();
  return useQuery({
    queryKey: ["shipping-methods", cartId],
    enabled: Boolean(cartId) && enabled,
    queryFn: () =>
      unwrap(
        api.GET("/api/storefront/v1/carts/{cart_id}/shipping-methods", { params: { path: { cart_id: cartId! } } }),
      ),
  });
}
