import { describe, expect, it } from "vitest";
import { progressFromEvent } from "./bulk/JobProgress";
import { parseEvents } from "./live";

describe("parseEvents", () => {
  it("splits complete events, skips comments and keeps the unfinished rest", () => {
    const { events, rest } = parseEvents(
      'retry: 3000\n: subscribed\n\nid: 7\nevent: order.created\ndata: {"number":1001}\n\n: keep-alive\n\nid: 8\nevent: order.pa',
    );
    expect(events).toEqual([{ id: "7", type: "order.created", data: { number: 1001 } }]);
    expect(rest).toBe("id: 8\nevent: order.pa");
  });

  it("ignores data that is not JSON", () => {
    expect(parseEvents("event: x\ndata: {oops\n\n").events).toEqual([]);
  });
});

describe("progressFromEvent", () => {
  const previous = { phase: "pending", done: 0, total: 10, percent: 0 };
  it("computes the percentage, never 100 before the end", () => {
    expect(progressFromEvent({ phase: "writing", done: 10, total: 10 }, previous).percent).toBe(99);
    expect(progressFromEvent({ phase: "writing", done: 5 }, previous)).toEqual({ phase: "writing", done: 5, total: 10, percent: 50 });
    expect(progressFromEvent({ phase: "done", done: 10, total: 10 }, previous).percent).toBe(100);
  });
});
