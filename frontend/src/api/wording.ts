// The one mapping from a problem (its `code`, its `type`, the fields it names) to
// words a merchant or shopper reads. Every error the SPAs show goes through
// `describeError` (problems.ts), which asks this module; add wording here, not
// at the call site. Codes are the ones in docs/problems.md.

import type { Problem } from "./problems";

type Wording = string | ((problem: Problem) => string);

/** By problem `code`; a code not listed falls back to the problem's own title and detail. */
export const PROBLEM_WORDING: Record<string, Wording> = {
  // Signing in and sessions
  no_active_account: "That e-mail and password don't match an account. Check both and try again.",
  authentication_failed: "Your sign-in was refused. Check the e-mail and password, or sign in again.",
  token_not_valid: "Your session has ended. Please sign in again.",
  not_authenticated: "Please sign in to continue.",
  password_changed: "Your password was changed. Please sign in again.",
  user_inactive: "This account is deactivated. Contact support.",
  permission_denied: "Your role in this shop doesn't allow this. Ask an owner of the shop.",
  not_allowed: "This action is reserved for the platform's staff.",
  // Generic states
  not_found: "We couldn't find that. It may have been deleted, or the link is out of date.",
  conflict: "This changed in the meantime. Reload the page and try again.",
  server_error: "Something went wrong on our side. Please try again in a moment.",
  unavailable: "The service is briefly unavailable. Please try again in a moment.",
  request_too_large: "That is more than can be sent at once. Send less.",
  idempotency_request_in_flight: "This is still being saved. Wait a moment, then check.",
  idempotency_key_reused: "This form was already sent with other values. Reload the page and try again.",
  // Accounts, shops, domains, members
  email_taken: "An account with this e-mail already exists. Sign in instead.",
  slug_invalid: "Use only lower-case letters, digits and hyphens in the shop's address.",
  slug_reserved: "This address is reserved. Pick another one.",
  slug_taken: "Another shop already uses this address. Pick another one.",
  shop_not_found: "We couldn't find this shop among yours.",
  shop_deleting: "This shop is being deleted.",
  provisioning_failed: "The shop could not be created just now. Please try again.",
  confirmation_mismatch: "Type the shop's address exactly to confirm.",
  export_in_progress: "An export is already running. Wait for it to finish.",
  domain_invalid: "Enter a host name like shop.example.com.",
  domain_reserved: "This domain belongs to the platform. Use a domain of your own.",
  domain_taken: "Another shop already uses this domain.",
  domain_primary: "The primary domain can't be removed.",
  domain_limit: "Your plan allows no more custom domains. Remove one first.",
  user_not_found: "Nobody has signed up with this e-mail yet. Ask them to create an account first.",
  already_a_member: "This person is already a member of the shop.",
  last_owner: "A shop needs an owner. Make someone else an owner first.",
  // Billing
  limit_reached: "Your plan's limit is reached. Upgrade the plan, or delete something first.",
  downgrade_refused: "The shop uses more than that plan allows. Reduce what it uses first.",
  // Catalog
  sku_taken: "Another variant already uses this SKU. Pick another one.",
  last_variant: "A product needs at least one variant. Add another before deleting this one.",
  category_cycle: "A category can't sit inside itself. Pick another parent.",
  category_has_children: "This category has subcategories. Move or delete them first.",
  attribute_schema_invalid: "The category's attribute description isn't valid.",
  attributes_invalid: "Some attributes don't fit the category.",
  image_refused: "This file isn't an image we can use (JPEG, PNG, WebP or GIF, not too large).",
  image_not_uploaded: "The image didn't finish uploading. Please upload it again.",
  image_order_invalid: "The images changed in the meantime. Reload the page and try again.",
  // The detail names what is left ("Only 1 of TEA-1 left."): worth keeping.
  insufficient_stock: (p) => (p.detail ? `Not enough stock: ${p.detail}` : "Not enough stock for that quantity."),
  variant_unavailable: "This item isn't for sale right now.",
  upload_url_expired: "The upload took too long. Please upload the file again.",
  upload_too_large: "This file is too large.",
  // Orders
  illegal_transition: "The order can't do that in its current state. Reload to see where it stands.",
  refund_too_large: "That is more than is left to refund on this order.",
  refund_line_invalid: (p) => (p.detail ? `That refund isn't possible: ${p.detail}` : "Those units can't be refunded."),
  // The detail names what is left ("Only 1 of MUG-1 left to ship."): worth keeping.
  fulfillment_line_invalid: (p) => (p.detail ? `That can't ship: ${p.detail}` : "More units than are left to ship."),
  nothing_to_fulfill: "Everything in this order has shipped already.",
  payment_not_authorized: "This order has no card authorization waiting to be captured or voided. Reload to see where it stands.",
  capture_too_large: "That is more than the card authorized. Capture at most the authorized amount.",
  capture_refused: (p) =>
    p.detail ? `The payment provider refused the capture: ${p.detail}` : "The payment provider refused the capture. Void it, or ask the shopper to pay again.",
  payment_provider_unavailable: "The payment provider didn't answer. Nothing was taken; try again in a moment.",
  payment_method_disabled: "This way of paying isn't available in this shop.",
  payment_declined: (p) => (p.detail ? `Payment declined: ${p.detail}` : "Payment declined. Try another card."),
  // Shipping, taxes, discounts
  shipping_zone_overlap: (p) => (p.detail ? p.detail : "A country can be in one shipping zone only."),
  shipping_address_required: "Enter the shipping address first.",
  shipping_method_required: "Choose a shipping method.",
  shipping_method_unavailable: "That shipping method doesn't serve this address or cart. Choose another one.",
  discount_code_taken: "Another discount already has this code. Pick another one.",
  discount_unknown: "We don't know this code. Check its spelling.",
  discount_expired: "This code isn't valid right now.",
  discount_min_subtotal: (p) => (p.detail ? p.detail : "The cart is below this code's minimum."),
  discount_exhausted: (p) => (p.detail ? p.detail : "This code has been used as often as it allows."),
  discount_not_applicable: "This code doesn't apply to anything in the cart.",
  // Webhooks
  webhook_url_refused: "Use a public https:// address for the webhook.",
  webhook_endpoint_limit: "You have as many webhook endpoints as allowed. Remove one first.",
  webhook_delivery_in_flight: "This delivery is being retried already. Wait for it.",
};

/** How each input is called on screen, by the API's field name (path segments are worded one by one). */
export const FIELD_LABELS: Record<string, string> = {
  email: "E-mail",
  password: "Password",
  name: "Name",
  slug: "Address",
  title: "Title",
  description: "Description",
  status: "Status",
  category: "Category",
  attributes: "Attributes",
  variants: "Variant",
  sku: "SKU",
  price: "Price",
  compare_at_price: "Compare-at price",
  stock: "Stock",
  low_stock_threshold: "Low-stock threshold",
  alt: "Alt text",
  scopes: "Scopes",
  url: "Endpoint URL",
  events: "Events",
  currency: "Currency",
  amount: "Amount",
  domain: "Domain",
  role: "Role",
  order: "Order",
  lines: "Line",
  from: "From",
  to: "To",
  countries: "Countries",
  postal_code_prefixes: "Postal code prefixes",
  methods: "Method",
  rate_type: "Rate type",
  weight_bands: "Weight band",
  up_to_grams: "up to (g)",
  free_over: "Free over",
  min_days: "Min days",
  max_days: "Max days",
  default_rate: "Default rate",
  rates: "Rate",
  rate: "rate",
  region: "Region",
  country: "Country",
  category_overrides: "Category override",
  applies_to: "Applies to",
  min_subtotal: "Minimum subtotal",
  starts_at: "Starts at",
  ends_at: "Ends at",
  usage_limit: "Usage limit",
  usage_limit_per_customer: "Uses per customer",
  code: "Code",
  kind: "Kind",
  value: "Value",
};

/** `compare_at_price` → "Compare-at price"; `variants.0.sku` → "Variant 1 SKU". */
export function fieldLabel(path: string): string {
  if (path === "non_field_errors" || path === "detail") return "";
  return path
    .split(/[.[\]]+/)
    .filter(Boolean)
    .map((part) => {
      if (/^\d+$/.test(part)) return String(Number(part) + 1);
      const label = FIELD_LABELS[part];
      if (label) return label;
      const words = part.replace(/_/g, " ");
      return words.charAt(0).toUpperCase() + words.slice(1);
    })
    .join(" ");
}

/** Field messages as one sentence each, labelled: "Password: This password is too short." */
export function fieldSentences(errors: Record<string, string[]>, skip: readonly string[] = []): string[] {
  return Object.entries(errors)
    .filter(([field]) => !skip.includes(field))
    .map(([field, messages]) => {
      const label = fieldLabel(field);
      const text = messages.join(" ");
      return label ? `${label}: ${text}` : text;
    });
}

/** The problem's own sentence: by code, else by type's last segment, else its title (and detail). */
export function problemSentence(problem: Problem): string | null {
  const key = problem.code ?? problem.type.split("/").pop() ?? "";
  const wording = PROBLEM_WORDING[key];
  if (wording) return typeof wording === "string" ? wording : wording(problem);
  return null;
}
