// The product form's fields and checks, shared by the new and edit pages.
import type { FieldErrors } from "../../../shared/ui";

export const STATUSES = ["draft", "active", "archived"] as const;
export type Status = (typeof STATUSES)[number];

export interface ProductFields {
  title: string;
  description: string;
  status: Status;
  category: string;
  attributes: string;
}

export const PRODUCT_FORM_FIELDS = ["title", "description", "status", "category", "attributes"] as const;

export function parseAttributes(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text || "{}");
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function validateProduct(fields: ProductFields): FieldErrors {
  const found: FieldErrors = {};
  if (!fields.title.trim()) found.title = ["Give the product a title."];
  if (parseAttributes(fields.attributes) === null) found.attributes = ["Must be a JSON object."];
  return found;
}

export function productBody(fields: ProductFields) {
  return {
    title: fields.title.trim(),
    description: fields.description,
    status: fields.status,
    category: fields.category ? Number(fields.category) : null,
    attributes: parseAttributes(fields.attributes) ?? {},
  };
}
