// RFC 9457 problem responses, as every Storefleet API sends them, turned into
// errors the UI can show as readable messages.

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

/** One sentence for a person: what went wrong and, where it helps, what to do. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const { problem } = error;
    if (problem.status === 429) {
      const wait = error.retryAfter ? ` in ${error.retryAfter} seconds` : " in a moment";
      return `Too many requests right now. Please try again${wait}.`;
    }
    if (problem.code === "payment_declined" || problem.status === 402) {
      return problem.detail ? `${problem.title}: ${problem.detail}` : problem.title;
    }
    if (problem.errors && Object.keys(problem.errors).length > 0) {
      const fields = Object.entries(problem.errors)
        .map(([field, messages]) => `${field === "non_field_errors" ? "" : `${field}: `}${messages.join(" ")}`)
        .join(" ");
      return `${problem.title}. ${fields}`.trim();
    }
    if (problem.detail && problem.detail !== problem.title) {
      return `${problem.title}: ${problem.detail}`;
    }
    return problem.title;
  }
  if (error instanceof TypeError) {
    return "The server could not be reached. Check your connection and try again.";
  }
  if (error instanceof Error) return error.message;
  return "Something went wrong.";
}
