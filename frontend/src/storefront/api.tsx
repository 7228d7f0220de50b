import { createContext, useContext, useSyncExternalStore, type ReactNode } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { storefrontClient, unwrap, type ShopClient } from "../api/client";
import { ApiError } from "../api/problems";
import type { Cart } from "./types";

const ClientContext = createContext<ShopClient | null>(null);

export function StorefrontApiProvider({ client, children }: { client?: ShopClient; children: ReactNode }) {
  return <ClientContext.Provider value={client ?? storefrontClient()}>{children}</ClientContext.Provider>;
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

// --- the cart: its id in localStorage (per shop host), its contents in Redis --------

const CART_KEY = "storefleet.cart";
const cartListeners = new Set<() => void>();

function storedCartId(): string | null {
  return window.localStorage.getItem(CART_KEY);
}

function storeCartId(id: string | null): void {
  if (id === null) window.localStorage.removeItem(CART_KEY);
  else window.localStorage.setItem(CART_KEY, id);
  for (const listener of cartListeners) listener();
}

export function forgetCart(): void {
  storeCartId(null);
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
        if (error instanceof ApiError && error.status === 404) {
          forgetCart(); // expired: the next add starts a new one
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
          if (!(error instanceof ApiError && error.status === 404 && error.problem.code === "cart_not_found")) throw error;
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
