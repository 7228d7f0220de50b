import { useInfiniteQuery, useQuery, type QueryKey } from "@tanstack/react-query";
import { createContext, useContext, useSyncExternalStore, type ReactNode } from "react";
import { useParams } from "react-router-dom";
import { cursorOf, Session, unwrap, type PlatformClient, type ShopClient } from "../api/client";
import type { components as P } from "../api/generated/platform";
import { queryKeys } from "./queryKeys";

export type Membership = P["schemas"]["MembershipOutput"];
export type Me = P["schemas"]["MeOutput"];

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ session, children }: { session: Session; children: ReactNode }) {
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside SessionProvider");
  return session;
}

/** Re-render when the merchant signs in or out (or a refresh fails). */
export function useSignedIn(): boolean {
  const session = useSession();
  return useSyncExternalStore(
    (listener) => session.subscribe(listener),
    () => session.signedIn,
  );
}

export function usePlatform(): PlatformClient {
  return useSession().platform();
}

export function useMe() {
  const platform = usePlatform();
  const signedIn = useSignedIn();
  return useQuery({
    queryKey: queryKeys.me(),
    enabled: signedIn,
    queryFn: () => unwrap(platform.GET("/api/platform/v1/me")),
  });
}

export interface CurrentShop {
  slug: string;
  name: string;
  domain: string;
  role: string;
  api: ShopClient;
}

/** The shop of the `/s/:slug` route, among the merchant's memberships, with its Admin API client. */
export function useCurrentShop(): CurrentShop | null {
  const { slug } = useParams();
  const me = useMe();
  const session = useSession();
  const membership = me.data?.memberships.find((m) => m.shop === slug);
  if (!membership) return null;
  return {
    slug: membership.shop,
    name: membership.shop_name,
    domain: membership.domain,
    role: membership.role,
    api: session.shop(membership.domain),
  };
}

export function useShopApi(): CurrentShop {
  const shop = useCurrentShop();
  if (!shop) throw new Error("useShopApi outside a shop route");
  return shop;
}

interface Page<T> {
  results: T[];
  next?: string | null;
}

/** A cursor-paginated list with "load more". */
export function useCursorList<T>(key: QueryKey, fetchPage: (cursor: string | undefined) => Promise<Page<T>>) {
  const query = useInfiniteQuery({
    queryKey: key,
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => fetchPage(pageParam),
    getNextPageParam: (page) => cursorOf(page.next),
  });
  return { ...query, items: query.data?.pages.flatMap((page) => page.results) ?? [] };
}
