import type { Money } from "./client";

/** Format a Money value for people; the amount stays a decimal string (no float rounding on the way). */
export function formatMoney(money: Money | null | undefined, locale?: string): string {
  if (!money) return "";
  try {
    return new Intl.NumberFormat(locale, { style: "currency", currency: money.currency }).format(
      money.amount as unknown as number,
    );
  } catch {
    return `${money.amount} ${money.currency}`;
  }
}

/** Read a money field of a generated type (spectacular types them as plain objects). */
export function money(value: unknown): Money | null {
  if (value && typeof value === "object" && "amount" in value && "currency" in value) {
    return value as Money;
  }
  return null;
}

/** A decimal amount as the API accepts it ("19.99"), or null when it is not one. */
export function parseAmount(input: string): string | null {
  const trimmed = input.trim().replace(",", ".");
  return /^\d{1,10}(\.\d{1,2})?$/.test(trimmed) ? trimmed : null;
}
