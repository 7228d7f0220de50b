import { useId } from "react";

/**
 * A category's attribute schema as merchants edit it: a list of fields, each
 * with a type, never raw JSON. It becomes (and is read back from) the JSON Schema
 * the API stores; catalog/attributes.py stays the one validator on the server.
 */
export type AttributeType = "text" | "number" | "integer" | "boolean" | "choice";

export interface AttributeField {
  key: string;
  label: string;
  type: AttributeType;
  required: boolean;
  choices: string;
  minimum: string;
  maximum: string;
}

export const TYPE_LABELS: Record<AttributeType, string> = {
  text: "Text",
  number: "Number",
  integer: "Whole number",
  boolean: "Yes / no",
  choice: "One of a list",
};

export const EMPTY_FIELD: AttributeField = { key: "", label: "", type: "text", required: false, choices: "", minimum: "", maximum: "" };

const KEY_RE = /^[a-z][a-z0-9_]{0,49}$/;

type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return !!value && typeof value === "object" && !Array.isArray(value);
}

/** The fields of a stored schema, and whether it had parts this editor does not show (and would drop). */
export function fieldsFromSchema(schema: unknown): { fields: AttributeField[]; lossy: boolean } {
  if (!isObject(schema)) return { fields: [], lossy: false };
  const properties = isObject(schema.properties) ? schema.properties : {};
  const required = Array.isArray(schema.required) ? schema.required.map(String) : [];
  let lossy = Object.keys(schema).some((k) => !["type", "properties", "required", "additionalProperties"].includes(k));
  const fields = Object.entries(properties).map(([key, raw]): AttributeField => {
    const prop = isObject(raw) ? raw : {};
    const base = { ...EMPTY_FIELD, key, label: typeof prop.title === "string" ? prop.title : "", required: required.includes(key) };
    const known = ["type", "title", "enum", "minimum", "maximum"];
    if (Object.keys(prop).some((k) => !known.includes(k))) lossy = true;
    if (Array.isArray(prop.enum)) return { ...base, type: "choice", choices: prop.enum.map(String).join(", ") };
    const bounds = {
      minimum: typeof prop.minimum === "number" ? String(prop.minimum) : "",
      maximum: typeof prop.maximum === "number" ? String(prop.maximum) : "",
    };
    if (prop.type === "number") return { ...base, type: "number", ...bounds };
    if (prop.type === "integer") return { ...base, type: "integer", ...bounds };
    if (prop.type === "boolean") return { ...base, type: "boolean" };
    if (prop.type !== "string" && prop.type !== undefined) lossy = true;
    return base;
  });
  return { fields, lossy };
}

/** The JSON Schema of the fields (null when there are none: the category then governs nothing). */
export function schemaFromFields(fields: AttributeField[]): JsonObject | null {
  if (!fields.length) return null;
  const properties: JsonObject = {};
  for (const field of fields) {
    const prop: JsonObject = {};
    if (field.label.trim()) prop.title = field.label.trim();
    if (field.type === "choice") {
      prop.type = "string";
      prop.enum = choicesOf(field);
    } else if (field.type === "text") {
      prop.type = "string";
    } else {
      prop.type = field.type;
    }
    if (field.type === "number" || field.type === "integer") {
      if (field.minimum.trim()) prop.minimum = Number(field.minimum);
      if (field.maximum.trim()) prop.maximum = Number(field.maximum);
    }
    properties[field.key] = prop;
  }
  const required = fields.filter((f) => f.required).map((f) => f.key);
  return { type: "object", properties, ...(required.length ? { required } : {}), additionalProperties: false };
}

function choicesOf(field: AttributeField): string[] {
  return [...new Set(field.choices.split(",").map((c) => c.trim()).filter(Boolean))];
}

/** Per field, what is wrong with it (empty when nothing is). */
export function fieldProblems(fields: AttributeField[]): string[][] {
  const keys = fields.map((f) => f.key);
  return fields.map((field, index) => {
    const problems: string[] = [];
    if (!KEY_RE.test(field.key)) problems.push("A key is a-z, 0-9 and _, starting with a letter (up to 50).");
    else if (keys.indexOf(field.key) !== index) problems.push("Another field has this key.");
    if (field.type === "choice" && choicesOf(field).length === 0) problems.push("List the choices, separated by commas.");
    for (const bound of ["minimum", "maximum"] as const) {
      const text = field[bound].trim();
      if (text && !Number.isFinite(Number(text))) problems.push(`The ${bound} must be a number.`);
      else if (text && field.type === "integer" && !Number.isInteger(Number(text))) problems.push(`The ${bound} must be a whole number.`);
    }
    return problems;
  });
}

/** The list of fields, editable: add, change, remove, each with its own labelled inputs. */
export function AttributeSchemaEditor({
  fields,
  onChange,
  problems,
}: {
  fields: AttributeField[];
  onChange: (fields: AttributeField[]) => void;
  problems: string[][];
}) {
  const base = useId();
  const set = (index: number, patch: Partial<AttributeField>) => onChange(fields.map((f, i) => (i === index ? { ...f, ...patch } : f)));
  return (
    <div className="attribute-schema-editor">
      {fields.length === 0 && <p className="muted">No attributes: products of this category take any (as text).</p>}
      {fields.map((field, index) => {
        const id = `${base}-${index}`;
        const errors = problems[index] ?? [];
        return (
          <fieldset key={index} aria-describedby={errors.length ? `${id}-errors` : undefined}>
            <legend>Attribute {index + 1}</legend>
            <div className="form-grid">
              <div className="field">
                <label htmlFor={`${id}-key`}>Key</label>
                <input id={`${id}-key`} value={field.key} onChange={(e) => set(index, { key: e.target.value })} aria-invalid={errors.length > 0 || undefined} />
              </div>
              <div className="field">
                <label htmlFor={`${id}-label`}>Label</label>
                <input id={`${id}-label`} value={field.label} onChange={(e) => set(index, { label: e.target.value })} />
              </div>
              <div className="field">
                <label htmlFor={`${id}-type`}>Type</label>
                <select id={`${id}-type`} value={field.type} onChange={(e) => set(index, { type: e.target.value as AttributeType })}>
                  {Object.entries(TYPE_LABELS).map(([value, label]) => (
                    <option key={value} value={value}>
                      {label}
                    </option>
                  ))}
                </select>
              </div>
              {field.type === "choice" && (
                <div className="field">
                  <label htmlFor={`${id}-choices`}>Choices (comma-separated)</label>
                  <input id={`${id}-choices`} value={field.choices} onChange={(e) => set(index, { choices: e.target.value })} />
                </div>
              )}
              {(field.type === "number" || field.type === "integer") && (
                <>
                  <div className="field">
                    <label htmlFor={`${id}-min`}>Minimum</label>
                    <input id={`${id}-min`} inputMode="decimal" value={field.minimum} onChange={(e) => set(index, { minimum: e.target.value })} />
                  </div>
                  <div className="field">
                    <label htmlFor={`${id}-max`}>Maximum</label>
                    <input id={`${id}-max`} inputMode="decimal" value={field.maximum} onChange={(e) => set(index, { maximum: e.target.value })} />
                  </div>
                </>
              )}
            </div>
            <label>
              <input type="checkbox" checked={field.required} onChange={(e) => set(index, { required: e.target.checked })} /> Required
            </label>{" "}
            <button type="button" className="secondary" onClick={() => onChange(fields.filter((_, i) => i !== index))}>
              Remove attribute {index + 1}
            </button>
            {errors.length > 0 && (
              <ul id={`${id}-errors`} className="field-error">
                {errors.map((problem) => (
                  <li key={problem}>{problem}</li>
                ))}
              </ul>
            )}
          </fieldset>
        );
      })}
      <button type="button" className="secondary" onClick={() => onChange([...fields, { ...EMPTY_FIELD }])}>
        Add an attribute
      </button>
    </div>
  );
}
