/** What a cursor list (useCursorList, useInfiniteQuery) offers for its next page. */
export interface MorePages {
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  fetchNextPage: () => unknown;
}

/** The "Load more" button under a cursor-paginated list: shown while the API has more. */
export function LoadMore({ list, label = "Load more" }: { list: MorePages; label?: string }) {
  if (!list.hasNextPage) return null;
  return (
    <button type="button" className="secondary load-more" onClick={() => list.fetchNextPage()} disabled={list.isFetchingNextPage}>
      {list.isFetchingNextPage ? "Loading…" : label}
    </button>
  );
}
