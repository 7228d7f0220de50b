// RFC 9457 problem responses, as every Storefleet API sends them, turned into
// errors the UI can show as readable messages.

import { fieldSentences, PROBLEM_WORDING, problemSentence } from "./wording";

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code?: string;
  errors?: Record<string, string[]>;
}

export class ApiError extends Error {
  readonly problem: Problem;
  readonly retryAfter: number | null;

  constructor(problem: Problem, retryAfter: number | null = null) {
    super(problem.detail || problem.title);
    this.name = "ApiError";
    this.problem = problem;
    this.retryAfter = retryAfter;
  }

  get status(): number {
    return this.problem.status;
  }

  /** Messages for one input field (validation problems), or none. */
  field(name: string): string[] {
    return this.problem.errors?.[name] ?? [];
  }
}

function isProblem(value: unknown): value is Problem {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Problem).status === "number" &&
    typeof (value as Problem).title === "string"
  );
}

/** The problem a failed response carries, or one made up from its status when it carries none. */
export function toApiError(body: unknown, response: Response): ApiError {
  const retry = response.headers.get("Retry-After");
  const retryAfter = retry && /^\d+$/.test(retry) ? Number(retry) : null;
  if (isProblem(body)) {
    return new ApiError(
      { ...body, detail: typeof body.detail === "string" ? body.detail : "" },
      retryAfter,
    );
  }
  return new ApiError(
    {
      type: "about:blank",
      title: response.statusText || "Request failed",
      status: response.status,
      detail: `The server answered ${response.status}.`,
    },
    retryAfter,
  );
}

/**
 * One sentence for a person: what went wrong and, where it helps, what to do.
 * The wording comes from one mapping (wording.ts). `fieldsShown` names the
 * fields whose messages the form already shows beside their inputs, so they
 * are not repeated in the summary.
 */
export function describeError(error: unknown, options: { fieldsShown?: readonly string[] } = {}): string {
  if (error instanceof ApiError) {
    const { problem } = error;
    if (problem.status === 429) {
      const wait = error.retryAfter ? ` in ${error.retryAfter} seconds` : " in a moment";
      return `Too many requests right now. Please try again${wait}.`;
    }
    const mapped = problemSentence(problem);
    const fieldErrors = problem.errors ?? {};
    if (Object.keys(fieldErrors).length > 0) {
      const rest = fieldSentences(fieldErrors, options.fieldsShown ?? []);
      const generic = !problem.code || problem.code === "validation_failed" || problem.code === "invalid";
      const lead = generic ? null : mapped;
      if (rest.length) return [lead, ...rest].filter(Boolean).join(" ");
      return lead ?? "Check the fields marked below.";
    }
    if (mapped) return mapped;
    if (problem.status >= 500) return PROBLEM_WORDING.server_error as string;
    if (problem.detail && problem.detail !== problem.title) return problem.detail;
    return problem.title;
  }
  if (error instanceof TypeError) {
    return "The server could not be reached. Check your connection and try again.";
  }
  if (error instanceof Error) return error.message;
  return "Something went wrong.";
}
