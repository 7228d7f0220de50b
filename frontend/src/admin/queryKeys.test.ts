import { QueryClient } from "@tanstack/react-query";
import { queryKeys } from "./queryKeys";

describe("query keys", () => {
  it("nest a shop's filtered lists under the list, and every list under the shop", async () => {
    const keys = queryKeys.shop("teas");
    expect(keys.orders({ status: "paid" })).toEqual(["shop", "teas", "orders", { status: "paid" }]);
    expect(keys.product(7)).toEqual(["shop", "teas", "product", 7]);
    expect(keys.export(null)).toEqual(["shop", "teas", "export", null]);

    const client = new QueryClient();
    client.setQueryData(keys.orders({ status: "paid" }), 1);
    client.setQueryData(keys.order(3), 2);
    client.setQueryData(queryKeys.shop("other").orders({ status: "paid" }), 3);
    await client.invalidateQueries({ queryKey: keys.orders() });
    const stale = (key: readonly unknown[]) => client.getQueryState(key)?.isInvalidated;
    expect(stale(keys.orders({ status: "paid" }))).toBe(true);
    expect(stale(keys.order(3))).toBe(false);
    expect(stale(queryKeys.shop("other").orders({ status: "paid" }))).toBe(false);
    await client.invalidateQueries({ queryKey: keys.all });
    expect(stale(keys.order(3))).toBe(true);
  });
});

describe("every admin query key comes from the factory", () => {
  // A key written as an array literal where react-query takes one: `queryKey: [`, or the
  // first argument of useCursorList, setQueryData, getQueryData.
  const HAND_WRITTEN = /queryKey:\s*\[|(?:useCursorList|setQueryData|getQueryData)\(\s*\[/;
  const sources = import.meta.glob(["./**/*.ts", "./**/*.tsx", "!./**/*.test.ts", "!./**/*.test.tsx"], {
    query: "?raw",
    import: "default",
    eager: true,
  }) as Record<string, string>;

  it("reads the admin sources", () => {
    expect(Object.keys(sources)).toContain("./pages/selling/Taxes.tsx");
    expect(HAND_WRITTEN.test('useQuery({ queryKey: ["taxes", slug] })')).toBe(true);
  });

  it.each(Object.keys(sources))("%s writes no query key by hand", (path) => {
    const lines = (sources[path] ?? "").split("\n").filter((line) => HAND_WRITTEN.test(line));
    expect(lines).toEqual([]);
  });
});
