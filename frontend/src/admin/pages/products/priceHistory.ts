// The price chart's geometry, kept apart from React so it is tested as plain data.
// The API lists only days with a change; a day without one kept the previous
// close, so the closing price is drawn as steps, and each changed day gets a
// whisker from its lowest to its highest price.
import type { components } from "../../../api/generated/shop";

export type PriceHistory = components["schemas"]["PriceHistoryOutput"];
export type VariantHistory = components["schemas"]["VariantPriceHistoryOutput"];
export type PriceDay = components["schemas"]["PriceDayOutput"];

const DAY_MS = 86_400_000;

/** Whole days from `from` to `day` (ISO dates, UTC). */
export function daysBetween(from: string, day: string): number {
  return Math.round((Date.parse(`${day}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);
}

/** The ISO date `days` before `day` (UTC). */
export function daysBefore(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) - days * DAY_MS).toISOString().slice(0, 10);
}

const amount = (value: { amount: string }): number => Number(value.amount);

export type Whisker = { date: string; x: number; low: number; high: number };
export type Chart = {
  /** The closing price as steps (an SVG path), empty when the range has no price at all. */
  path: string;
  whiskers: Whisker[];
  /** The lowest and highest prices drawn, for the axis labels. */
  low: number;
  high: number;
};

/**
 * Lay out one variant's range in a `width` x `height` box: x runs over the days
 * from `from` to `to` (each day a slot), y over the prices (highest at the top).
 */
export function chartOf(history: VariantHistory, from: string, to: string, width: number, height: number): Chart {
  const slots = daysBetween(from, to) + 1;
  const opening = history.opening ? amount(history.opening.close) : null;
  const prices = [
    ...(opening === null ? [] : [opening]),
    ...history.days.flatMap((day) => [amount(day.min), amount(day.max), amount(day.close)]),
  ];
  if (!prices.length || slots < 1) return { path: "", whiskers: [], low: 0, high: 0 };
  const low = Math.min(...prices);
  const high = Math.max(...prices);
  // A flat price sits in the middle rather than on an edge.
  const span = high - low || Math.max(1, high);
  const bottom = high === low ? low - span / 2 : low;
  const x = (slot: number) => (slot / slots) * width;
  const y = (price: number) => round(height - ((price - bottom) / span) * height);
  const steps: string[] = [];
  let last = opening;
  if (last !== null) steps.push(`M${x(0)},${y(last)}`);
  for (const day of history.days) {
    const at = round(x(daysBetween(from, day.date)));
    const close = amount(day.close);
    steps.push(last === null ? `M${at},${y(close)}` : `H${at}V${y(close)}`);
    last = close;
  }
  steps.push(`H${width}`);
  const whiskers = history.days.map((day) => ({
    date: day.date,
    x: round(x(daysBetween(from, day.date) + 0.5)),
    low: y(amount(day.min)),
    high: y(amount(day.max)),
  }));
  return { path: steps.join(""), whiskers, low, high };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
