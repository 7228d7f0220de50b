import Form from "@rjsf/core";
import type { RJSFSchema, UiSchema } from "@rjsf/utils";
import validator from "@rjsf/validator-ajv8";
import { isObject } from "../AttributeSchema";

/** Free attributes (a category without a schema): named text values, added and removed by the merchant. */
const FREE_SCHEMA: RJSFSchema = { type: "object", additionalProperties: { type: "string" } };
const HIDE_SUBMIT: UiSchema = { "ui:submitButtonOptions": { norender: true } };

/**
 * A product's attributes as a form generated from its category's schema
 * (react-jsonschema-form, validated as typed with its AJV validator); the server
 * checks them again with the one validator (catalog/attributes.py).
 */
export default function ProductAttributesForm({
  schema,
  value,
  onChange,
}: {
  schema: unknown;
  value: Record<string, unknown>;
  onChange: (value: Record<string, unknown>) => void;
}) {
  const formSchema = (isObject(schema) ? schema : FREE_SCHEMA) as RJSFSchema;
  return (
    <Form
      tagName="div"
      schema={formSchema}
      uiSchema={HIDE_SUBMIT}
      formData={value}
      validator={validator}
      liveValidate
      showErrorList={false}
      noHtml5Validate
      onChange={(event) => onChange((event.formData ?? {}) as Record<string, unknown>)}
    />
  );
}
