// Export the shop's products, or its orders between two days, as a CSV file: a worker
// writes it; the bar follows its progress and the link appears when it is done.
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { absoluteUrl, newIdempotencyKey, shopOrigin, unwrap } from "../../api/client";
import type { components } from "../../api/generated/shop";
import { ErrorMessage } from "../../shared/ui";
import { useLiveEvents } from "../live";
import { useShopApi } from "../session";
import { JobProgress, progressFromEvent, type Progress } from "./JobProgress";
import { queryKeys } from "../queryKeys";

type Export = components["schemas"]["ExportOutput"];

export function CsvExport({ kind }: { kind: "products" | "orders" }) {
  const { api, slug, domain } = useShopApi();
  const [exportId, setExportId] = useState<string | null>(null);
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [liveProgress, setLiveProgress] = useState<Progress | null>(null);
  const headers = () => ({ "Idempotency-Key": newIdempotencyKey() });
  const start = useMutation({
    mutationFn: () =>
      kind === "products"
        ? unwrap(api.POST("/api/admin/v1/products/export", { headers: headers() }))
        : unwrap(
            api.POST("/api/admin/v1/orders/export", {
              body: { ...(from ? { from } : {}), ...(to ? { to } : {}) },
              headers: headers(),
            }),
          ),
    onSuccess: (created) => {
      setLiveProgress(null);
      setExportId(created.id);
    },
  });
  const job = useQuery({
    queryKey: queryKeys.shop(slug).csvJob("export", exportId),
    enabled: exportId !== null,
    queryFn: () =>
      kind === "products"
        ? unwrap(api.GET("/api/admin/v1/product-exports/{export_id}", { params: { path: { export_id: exportId as string } } }))
        : unwrap(api.GET("/api/admin/v1/order-exports/{export_id}", { params: { path: { export_id: exportId as string } } })),
    refetchInterval: (query) => (finished(query.state.data) ? false : 2000),
  });
  useLiveEvents((event) => {
    if (event.type !== "export.progress" || event.data.id !== exportId || !job.data) return;
    const progress = progressFromEvent(event.data, liveProgress ?? job.data.progress);
    setLiveProgress(progress);
    if (progress.phase === "done") void job.refetch();
  });
  const current = job.data;
  const progress = current && !finished(current) && liveProgress ? liveProgress : current?.progress;
  const title = kind === "products" ? "Export products" : "Export orders";
  return (
    <section aria-label={title}>
      <form
        className="actions"
        onSubmit={(event: FormEvent) => {
          event.preventDefault();
          start.mutate();
        }}
      >
        {kind === "orders" && (
          <>
            <label>
              From <input type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
            </label>
            <label>
              To <input type="date" value={to} onChange={(e) => setTo(e.target.value)} />
            </label>
          </>
        )}
        <button type="submit" className="secondary" disabled={start.isPending}>
          {title} (CSV)
        </button>
      </form>
      <ErrorMessage error={start.error ?? job.error} />
      {current && progress && <JobProgress label={title} progress={progress} />}
      {current?.download_url && (
        <p>
          <a href={absoluteUrl(current.download_url, shopOrigin(domain))} download>
            Download the CSV file
          </a>
        </p>
      )}
      {current?.status === "failed" && <p role="alert">The export failed; try again.</p>}
    </section>
  );
}

function finished(job: Export | undefined): boolean {
  return job !== undefined && (job.status === "done" || job.status === "failed");
}
