// A variant as the form holds it (text inputs), its checks, and its API body.
import { money, parseAmount } from "../../../api/money";
import type { Variant } from "../../types";

export interface VariantRow {
  sku: string;
  title: string;
  price: string;
  compare_at_price: string;
  stock: string;
  low_stock_threshold: string;
}

export const EMPTY_VARIANT: VariantRow = { sku: "", title: "", price: "", compare_at_price: "", stock: "0", low_stock_threshold: "5" };

export function validateVariant(row: VariantRow): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!row.sku.trim()) errors.sku = "SKU is required.";
  if (parseAmount(row.price) === null) errors.price = "Price like 19.99.";
  if (row.compare_at_price.trim() && parseAmount(row.compare_at_price) === null) errors.compare_at_price = "Price like 24.99.";
  if (!/^\d+$/.test(row.stock.trim())) errors.stock = "A whole number.";
  if (!/^\d+$/.test(row.low_stock_threshold.trim())) errors.low_stock_threshold = "A whole number.";
  return errors;
}

export function variantBody(row: VariantRow) {
  return {
    sku: row.sku.trim(),
    title: row.title.trim(),
    price: parseAmount(row.price) ?? row.price,
    compare_at_price: row.compare_at_price.trim() ? (parseAmount(row.compare_at_price) ?? row.compare_at_price) : null,
    stock: Number(row.stock),
    low_stock_threshold: Number(row.low_stock_threshold),
  };
}

export function toRow(variant: Variant): VariantRow {
  return {
    sku: variant.sku,
    title: variant.title,
    price: money(variant.price)?.amount ?? "",
    compare_at_price: money(variant.compare_at_price)?.amount ?? "",
    stock: String(variant.stock),
    low_stock_threshold: String(variant.low_stock_threshold),
  };
}

export const VARIANT_FIELDS = ["sku", "title", "price", "compare_at_price", "stock", "low_stock_threshold"] as const;
