import { useId, type ReactNode } from "react";

/** A fieldset of checkboxes that picks a set of values (API key scopes, webhook events), with its error. */
export function CheckboxGroup<T extends string>({
  legend,
  options,
  selected,
  onChange,
  errors,
}: {
  legend: string;
  options: readonly { value: T; label: ReactNode }[];
  selected: readonly T[];
  onChange: (next: T[]) => void;
  errors?: string[];
}) {
  const errorId = useId();
  return (
    <fieldset aria-describedby={errors?.length ? errorId : undefined}>
      <legend>{legend}</legend>
      {options.map(({ value, label }) => (
        <label className="checkbox" key={value}>
          <input
            type="checkbox"
            checked={selected.includes(value)}
            onChange={(e) => onChange(e.target.checked ? [...selected, value] : selected.filter((v) => v !== value))}
          />
          {label}
        </label>
      ))}
      {errors?.length ? (
        <small id={errorId} className="field-error">
          {errors.join(" ")}
        </small>
      ) : null}
    </fieldset>
  );
}
