// Every query key of the admin SPA, from one factory, so a list and the writes
// that invalidate it cannot drift apart. A shop's keys start ["shop", slug, name]:
// invalidating `queryKeys.shop(slug).orders()` refreshes every filtered orders
// list, and `queryKeys.shop(slug).all` everything of that shop. A new page adds
// its resource's name to SHOP_RESOURCES.

const SHOP_RESOURCES = [
  // Admin API (the shop's host)
  "products",
  "product",
  "priceHistory",
  "categories",
  "inventory",
  "orders",
  "order",
  "orderEvents",
  "customers",
  "customer",
  "apiKeys",
  "webhooks",
  "webhook",
  "deliveries",
  "sales",
  "paymentSettings",
  "auditLog",
  "dashboard",
  "csvJob",
  "shippingZones",
  "taxes",
  "discounts",
  "theme",
  "contentPages",
  "productPick",
  "regions",
  // Platform API, about this shop
  "shop",
  "members",
  "invitations",
  "domains",
  "export",
  "subscription",
  "usage",
  "invoices",
  "upcomingInvoice",
] as const;

export type ShopResource = (typeof SHOP_RESOURCES)[number];
type KeyOf = (...rest: unknown[]) => readonly unknown[];

export type ShopKeys = { all: readonly ["shop", string] } & Record<ShopResource, KeyOf>;

function shopKeys(slug: string): ShopKeys {
  const all = ["shop", slug] as const;
  const keys = Object.fromEntries(
    SHOP_RESOURCES.map((name) => [name, (...rest: unknown[]) => [...all, name, ...rest.filter((part) => part !== undefined)]]),
  ) as unknown as Record<ShopResource, KeyOf>;
  return { all, ...keys };
}

export const queryKeys = {
  /** The signed-in merchant and their memberships. */
  me: () => ["me"] as const,
  /** The platform's plans (the same for every shop). */
  plans: () => ["plans"] as const,
  /** One search of the shop directory (anonymous, across shops). */
  directory: (search: unknown) => ["directory", search] as const,
  shop: shopKeys,
};
