// The typed API clients (openapi-fetch over the types generated from the
// OpenAPI documents). The API base is always taken from the page at run time:
// the storefront talks to its own host, the admin to the platform host it is
// served from and to each shop's host, so one build serves every shop.
import createClient, { type Client } from "openapi-fetch";
import type { paths as PlatformPaths } from "./generated/platform";
import type { paths as ShopPaths } from "./generated/shop";
import { ApiError, toApiError } from "./problems";

export type PlatformClient = Client<PlatformPaths>;
export type ShopClient = Client<ShopPaths>;

export interface Money {
  amount: string;
  currency: string;
}

/** The origin of a shop host, with the scheme and port the page itself uses. */
export function shopOrigin(domain: string, page: Location = window.location): string {
  return `${page.protocol}//${domain}${page.port ? `:${page.port}` : ""}`;
}

/** Resolve a URL the API gave (maybe relative, like local uploads and media) against a host. */
export function absoluteUrl(url: string, origin: string): string {
  return new URL(url, origin).toString();
}

type Result<T> = { data?: T; error?: unknown; response: Response };

/** The data of a successful call, or an ApiError carrying the problem. */
export async function unwrap<T>(call: Promise<Result<T>>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw toApiError(error, response);
  return data as T;
}

/** A fresh Idempotency-Key (one per attempt): works outside secure contexts too. */
export function newIdempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The `cursor` parameter of a `next`/`previous` link, for the following page. */
export function cursorOf(link: string | null | undefined): string | undefined {
  if (!link) return undefined;
  return new URL(link, "http://x").searchParams.get("cursor") ?? undefined;
}

export function storefrontClient(origin: string = window.location.origin): ShopClient {
  return createClient<ShopPaths>({ baseUrl: origin });
}

// --- the merchant's session (admin) -------------------------------------------

type Listener = () => void;

/** Where a session keeps its pair and which endpoints refresh and revoke it. */
export interface SessionKind {
  /** localStorage keys `<prefix>.access` and `<prefix>.refresh`. */
  prefix: string;
  refreshPath: string;
  /** Revokes a refresh token; without one, signing out only forgets the pair (it lapses on its own). */
  logoutPath: string | null;
}

/** A merchant's platform session (the admin SPA). */
export const PLATFORM_SESSION: SessionKind = {
  prefix: "storefleet",
  refreshPath: "/api/platform/v1/auth/token/refresh",
  logoutPath: "/api/platform/v1/auth/logout",
};

/** A shopper's session with one shop (the storefront SPA, on the shop's host). */
export const CUSTOMER_SESSION: SessionKind = {
  prefix: "storefleet.customer",
  refreshPath: "/api/storefront/v1/customer/token/refresh",
  logoutPath: null,
};

/**
 * JWT pair in localStorage; access refreshed on a 401 once, then the session ends.
 * A refresh token works once: each refresh stores the new one the server answers.
 */
export class Session {
  private listeners = new Set<Listener>();
  private refreshing: Promise<boolean> | null = null;
  private readonly platformOrigin: string;
  private readonly storage: Storage;
  private readonly kind: SessionKind;
  private readonly accessKey: string;
  private readonly refreshKey: string;

  /** `platformOrigin`: where the tokens come from (the platform host, or the shop's own host). */
  constructor(platformOrigin: string, storage: Storage = window.localStorage, kind: SessionKind = PLATFORM_SESSION) {
    this.platformOrigin = platformOrigin;
    this.storage = storage;
    this.kind = kind;
    this.accessKey = `${kind.prefix}.access`;
    this.refreshKey = `${kind.prefix}.refresh`;
  }

  get access(): string | null {
    return this.storage.getItem(this.accessKey);
  }

  get signedIn(): boolean {
    return this.storage.getItem(this.refreshKey) !== null;
  }

  signIn(access: string, refresh: string): void {
    this.storage.setItem(this.accessKey, access);
    this.storage.setItem(this.refreshKey, refresh);
    this.emit();
  }

  signOut(): void {
    this.storage.removeItem(this.accessKey);
    this.storage.removeItem(this.refreshKey);
    this.emit();
  }

  /** Revoke the refresh token on the platform (auth/logout), then forget the pair. */
  async logOut(): Promise<void> {
    const refresh = this.storage.getItem(this.refreshKey);
    this.signOut();
    if (!refresh || !this.kind.logoutPath) return;
    try {
      await fetch(`${this.platformOrigin}${this.kind.logoutPath}`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refresh }),
      });
    } catch {
      // Offline: the token lapses on its own (JWT_REFRESH_DAYS); this browser has forgotten it.
    }
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }

  private refresh(): Promise<boolean> {
    this.refreshing ??= (async () => {
      const refresh = this.storage.getItem(this.refreshKey);
      if (!refresh) return false;
      try {
        const response = await fetch(`${this.platformOrigin}${this.kind.refreshPath}`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ refresh }),
        });
        if (!response.ok) {
          // Another tab may have spent this refresh token a moment ago and stored its successor.
          const current = this.storage.getItem(this.refreshKey);
          return current !== null && current !== refresh;
        }
        const body = (await response.json()) as { access: string; refresh?: string };
        this.storage.setItem(this.accessKey, body.access);
        if (body.refresh) this.storage.setItem(this.refreshKey, body.refresh);
        return true;
      } catch {
        return false;
      }
    })().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  /** fetch with the access token; on a 401, refresh it once and retry, else sign out. */
  readonly fetch = async (request: Request): Promise<Response> => {
    const retry = request.clone();
    const token = this.access;
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    const response = await fetch(request);
    if (response.status !== 401 || !this.signedIn) return response;
    if (await this.refresh()) {
      retry.headers.set("Authorization", `Bearer ${this.access ?? ""}`);
      const again = await fetch(retry);
      if (again.status !== 401) return again;
    }
    this.signOut();
    return response;
  };

  /** The Storefront API client of the shop whose host the page is on, carrying the customer's token. */
  storefront(): ShopClient {
    return createClient<ShopPaths>({ baseUrl: this.platformOrigin, fetch: this.fetch });
  }

  platform(): PlatformClient {
    return createClient<PlatformPaths>({ baseUrl: this.platformOrigin, fetch: this.fetch });
  }

  private shops = new Map<string, ShopClient>();

  /** The Admin API client of one shop, on the shop's own host. */
  shop(domain: string): ShopClient {
    let client = this.shops.get(domain);
    if (!client) {
      client = createClient<ShopPaths>({ baseUrl: shopOrigin(domain), fetch: this.fetch });
      this.shops.set(domain, client);
    }
    return client;
  }
}

export { ApiError };
