// A worker job's progress bar (imports and exports), fed by polling and by the live stream.
import type { components } from "../../api/generated/shop";

export type Progress = components["schemas"]["ProgressOutput"];

const PHASES: Record<string, string> = {
  pending: "Waiting for a worker",
  checking: "Checking rows",
  checked: "Checked",
  writing: "Writing",
  done: "Done",
  failed: "Finished with errors",
};

export function JobProgress({ label, progress }: { label: string; progress: Progress }) {
  return (
    <div className="job-progress">
      <label>
        {label}: {PHASES[progress.phase] ?? progress.phase} ({progress.done} of {progress.total} rows)
        <progress max={100} value={progress.percent} aria-valuetext={`${progress.percent}%`}>
          {progress.percent}%
        </progress>
      </label>
    </div>
  );
}

/** Merge a live `import.progress`/`export.progress` event into a job's progress. */
export function progressFromEvent(data: Record<string, unknown>, previous: Progress): Progress {
  const done = typeof data.done === "number" ? data.done : previous.done;
  const total = typeof data.total === "number" ? data.total : previous.total;
  const phase = typeof data.phase === "string" ? data.phase : previous.phase;
  const finished = phase === "done" || phase === "failed";
  return { phase, done, total, percent: finished ? 100 : total ? Math.min(99, Math.floor((100 * done) / total)) : 0 };
}
