import { useId, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes } from "react";
import { describeError } from "../api/problems";

/**
 * A failed request as a readable message (never a blank page). A form passes the
 * fields it shows messages beside (`fieldsShown`), so each message appears once.
 */
export function ErrorMessage({
  error,
  onRetry,
  fieldsShown,
}: {
  error: unknown;
  onRetry?: () => void;
  fieldsShown?: readonly string[];
}) {
  if (!error) return null;
  return (
    <div className="alert alert-error" role="alert">
      <p>{describeError(error, { fieldsShown })}</p>
      {onRetry && (
        <button type="button" className="secondary" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Notice({ children }: { children: ReactNode }) {
  return (
    <div className="alert alert-ok" role="status">
      {children}
    </div>
  );
}

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {label}
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

type FieldProps = InputHTMLAttributes<HTMLInputElement> & {
  label: string;
  errors?: string[];
  hint?: string;
};

/** A labelled input with its hint and validation messages tied to it for screen readers. */
export function Field({ label, errors = [], hint, id, className, ...input }: FieldProps) {
  const generated = useId();
  const inputId = id ?? generated;
  const hintId = hint ? `${inputId}-hint` : undefined;
  const errorId = errors.length ? `${inputId}-error` : undefined;
  return (
    <div className={`field ${className ?? ""}`}>
      <label htmlFor={inputId}>{label}</label>
      <input
        id={inputId}
        aria-invalid={errors.length > 0 || undefined}
        aria-describedby={[hintId, errorId].filter(Boolean).join(" ") || undefined}
        {...input}
      />
      {hint && (
        <small id={hintId} className="hint">
          {hint}
        </small>
      )}
      {errorId && (
        <small id={errorId} className="field-error">
          {errors.join(" ")}
        </small>
      )}
    </div>
  );
}

type SelectProps = SelectHTMLAttributes<HTMLSelectElement> & { label: string; errors?: string[] };

export function SelectField({ label, errors = [], id, children, ...select }: SelectProps) {
  const generated = useId();
  const selectId = id ?? generated;
  const errorId = errors.length ? `${selectId}-error` : undefined;
  return (
    <div className="field">
      <label htmlFor={selectId}>{label}</label>
      <select id={selectId} aria-invalid={errors.length > 0 || undefined} aria-describedby={errorId} {...select}>
        {children}
      </select>
      {errorId && (
        <small id={errorId} className="field-error">
          {errors.join(" ")}
        </small>
      )}
    </div>
  );
}

/** Client-side checks, merged with the API's field errors (the API has the last word). */
export type FieldErrors = Record<string, string[]>;

export function mergeErrors(client: FieldErrors, server: unknown): FieldErrors {
  const merged: FieldErrors = { ...client };
  const problem = (server as { problem?: { errors?: FieldErrors } } | null)?.problem;
  for (const [name, messages] of Object.entries(problem?.errors ?? {})) {
    merged[name] = [...(merged[name] ?? []), ...messages];
  }
  return merged;
}

export const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
