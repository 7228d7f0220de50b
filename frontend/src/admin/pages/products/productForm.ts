// The product form's fields and checks, shared by the new and edit pages.
import type { FieldErrors } from "../../../shared/ui";

export const STATUSES = ["draft", "active", "archived"] as const;
export type Status = (typeof STATUSES)[number];

export interface ProductFields {
  title: string;
  description: string;
  status: Status;
  category: string;
  attributes: Record<string, unknown>;
  vendor: string;
  /** The tags as the merchant types them: separated by commas. */
  tags: string;
}

export const PRODUCT_FORM_FIELDS = ["title", "description", "status", "category", "attributes", "vendor", "tags"] as const;

// The API's limits (catalog/models.py: TAG_MAX_LENGTH, MAX_TAGS).
export const TAG_MAX_LENGTH = 64;
export const MAX_TAGS = 50;

/** Tags from the comma-separated field: trimmed, blanks and repeats dropped. */
export function tagsOf(text: string): string[] {
  return [...new Set(text.split(",").map((tag) => tag.trim()).filter(Boolean))];
}

export function validateProduct(fields: ProductFields): FieldErrors {
  const found: FieldErrors = {};
  if (!fields.title.trim()) found.title = ["Give the product a title."];
  const tags = tagsOf(fields.tags);
  if (tags.length > MAX_TAGS) found.tags = [`At most ${MAX_TAGS} tags.`];
  else if (tags.some((tag) => tag.length > TAG_MAX_LENGTH)) found.tags = [`Tags of at most ${TAG_MAX_LENGTH} characters.`];
  if (fields.vendor.length > 255) found.vendor = ["At most 255 characters."];
  return found;
}

export function productBody(fields: ProductFields) {
  return {
    title: fields.title.trim(),
    description: fields.description,
    status: fields.status,
    category: fields.category ? Number(fields.category) : null,
    attributes: fields.attributes,
    vendor: fields.vendor.trim(),
    tags: tagsOf(fields.tags),
  };
}
