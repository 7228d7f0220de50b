// Import products from a CSV file (Shopify's product columns): upload, then follow the
// worker's progress (live stream, and polling as a fallback) to its row errors or counts.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { newIdempotencyKey, unwrap } from "../../api/client";
import type { components } from "../../api/generated/shop";
import { ErrorMessage, Notice } from "../../shared/ui";
import { useLiveEvents } from "../live";
import { useShopApi } from "../session";
import { JobProgress, progressFromEvent, type Progress } from "./JobProgress";
import { queryKeys } from "../queryKeys";

type Import = components["schemas"]["ImportOutput"];

export function ProductImport() {
  const { api, slug } = useShopApi();
  const queryClient = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [dryRun, setDryRun] = useState(true);
  const [jobId, setJobId] = useState<string | null>(null);
  const [liveProgress, setLiveProgress] = useState<Progress | null>(null);

  const start = useMutation({
    mutationFn: async () => {
      const form = new FormData();
      form.append("file", file as File);
      form.append("dry_run", dryRun ? "true" : "false");
      return unwrap(
        api.POST("/api/admin/v1/products/import", {
          // openapi-fetch sends FormData as it is (the browser sets the multipart boundary).
          body: form as unknown as components["schemas"]["ImportInputRequest"],
          bodySerializer: (body) => body as unknown as FormData,
          headers: { "Idempotency-Key": newIdempotencyKey() },
        }),
      );
    },
    onSuccess: (job) => {
      setLiveProgress(null);
      setJobId(job.id);
    },
  });
  const job = useQuery({
    queryKey: queryKeys.shop(slug).csvJob("import", jobId),
    enabled: jobId !== null,
    queryFn: () => unwrap(api.GET("/api/admin/v1/imports/{import_id}", { params: { path: { import_id: jobId as string } } })),
    refetchInterval: (query) => (finished(query.state.data) ? false : 2000),
  });
  useLiveEvents((event) => {
    if (event.type !== "import.progress" || event.data.id !== jobId || !job.data) return;
    const progress = progressFromEvent(event.data, liveProgress ?? job.data.progress);
    setLiveProgress(progress);
    if (progress.phase === "done" || progress.phase === "failed") {
      void job.refetch();
      void queryClient.invalidateQueries({ queryKey: queryKeys.shop(slug).products() });
    }
  });
  const current = job.data;
  const progress = current && !finished(current) && liveProgress ? liveProgress : current?.progress;

  return (
    <section aria-labelledby="import-heading">
      <h2 id="import-heading">Import from CSV</h2>
      <form
        className="actions"
        onSubmit={(event: FormEvent) => {
          event.preventDefault();
          if (file) start.mutate();
        }}
      >
        <label>
          CSV file
          <input type="file" accept=".csv,text/csv" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
        </label>
        <label>
          <input type="checkbox" checked={dryRun} onChange={(e) => setDryRun(e.target.checked)} /> Dry run (check only,
          write nothing)
        </label>
        <button type="submit" disabled={!file || start.isPending}>
          {dryRun ? "Check file" : "Import"}
        </button>
      </form>
      <ErrorMessage error={start.error ?? job.error} />
      {current && progress && <JobProgress label={current.filename} progress={progress} />}
      {current?.status === "done" && (
        <Notice>
          {current.dry_run ? "The file is valid; importing it would create" : "Imported:"} {current.products_created}{" "}
          products and update {current.products_updated} ({current.variants_created} variants created,{" "}
          {current.variants_updated} updated).
        </Notice>
      )}
      {current?.status === "failed" && (
        <div className="alert alert-error" role="alert">
          <p>Nothing was written. Fix these rows and try again:</p>
          <table>
            <thead>
              <tr>
                <th scope="col">Line</th>
                <th scope="col">Column</th>
                <th scope="col">Problem</th>
              </tr>
            </thead>
            <tbody>
              {current.errors.map((error, index) => (
                <tr key={index}>
                  <td>{error.line ?? "file"}</td>
                  <td>{error.column ?? ""}</td>
                  <td>{error.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function finished(job: Import | undefined): boolean {
  return job !== undefined && (job.status === "done" || job.status === "failed");
}
