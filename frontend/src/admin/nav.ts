import type { IconName } from "./ui/Icon";

/** The shop's sidebar, in order: a route under /s/:slug, its label and icon. A new page adds its line. */
export const SHOP_NAV: readonly { path: string; label: string; icon: IconName }[] = [
  { path: "", label: "Overview", icon: "home" },
  { path: "products", label: "Products", icon: "tag" },
  { path: "categories", label: "Categories", icon: "layers" },
  { path: "inventory", label: "Inventory", icon: "layers" },
  { path: "orders", label: "Orders", icon: "receipt" },
  { path: "customers", label: "Customers", icon: "users" },
  { path: "api-keys", label: "API keys", icon: "key" },
  { path: "webhooks", label: "Webhooks", icon: "link" },
  { path: "members", label: "Members", icon: "team" },
  { path: "billing", label: "Plan and usage", icon: "card" },
  { path: "invoices", label: "Invoices", icon: "file" },
  { path: "audit-log", label: "Audit log", icon: "file" },
  { path: "shipping", label: "Shipping", icon: "layers" },
  { path: "taxes", label: "Taxes", icon: "receipt" },
  { path: "discounts", label: "Discounts", icon: "tag" },
  { path: "theme", label: "Storefront theme", icon: "external" },
  { path: "settings", label: "Settings", icon: "settings" },
];
