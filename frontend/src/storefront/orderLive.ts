// The shopper's order page hears its order paid, shipped, cancelled or refunded as it
// happens: Server-Sent Events from /api/storefront/v1/orders/{number}/live, opened with
// the order's token (EventSource reconnects by itself; docs/live-updates.md).
import { useEffect } from "react";

export const ORDER_PAGE_EVENTS = ["order.paid", "order.partially_fulfilled", "order.fulfilled", "order.cancelled", "order.refunded"];

export function useOrderLive(number: string, token: string, onChange: () => void): void {
  useEffect(() => {
    if (!/^\d+$/.test(number) || !token || typeof EventSource === "undefined") return;
    const source = new EventSource(`/api/storefront/v1/orders/${number}/live?token=${encodeURIComponent(token)}`);
    const changed = () => onChange();
    ORDER_PAGE_EVENTS.forEach((type) => source.addEventListener(type, changed));
    // Whatever happened while the stream was down is not replayed: read the order again.
    source.addEventListener("open", changed);
    return () => source.close();
  }, [number, token, onChange]);
}
