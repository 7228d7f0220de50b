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
}

export const PRODUCT_FORM_FIELDS = ["title", "description", "status", "category", "attributes"] as const;

export function validateProduct(fields: ProductFields): FieldErrors {
  const found: FieldErrors = {};
  if (!fields.title.trim()) found.title = ["Give the product a title."];
  return found;
}

export function productBody(fields: ProductFields) {
  return {
    title: fields.title.trim(),
    description: fields.description,
    status: fields.status,
    category: fields.category ? Number(fields.category) : null,
    attributes: fields.attributes,
  };
}
