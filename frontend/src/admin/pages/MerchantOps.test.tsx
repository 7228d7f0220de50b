import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { MemoryRouter } from "react-router-dom";
import { AttributeSchemaEditor, fieldProblems, fieldsFromSchema, schemaFromFields, type AttributeField } from "./AttributeSchema";
import ProductAttributesForm from "./products/ProductAttributes";
import { changeSummary } from "./AuditLog";
import { categoryTree } from "./Categories";
import { ageText, DashboardTodayView } from "./DashboardToday";

const category = (id: number, parent: number | null, position: number, name = `C${id}`) => ({
  id,
  name,
  slug: name.toLowerCase(),
  parent,
  position,
  attribute_schema: null,
});

describe("merchant operations", () => {
  it("lays categories out as a tree, each level by position", () => {
    const rows = categoryTree([category(1, null, 1), category(2, null, 0), category(3, 1, 1), category(4, 1, 0), category(5, 4, 0)]);
    expect(rows.map((r) => [r.category.id, r.depth])).toEqual([
      [2, 0],
      [1, 0],
      [4, 1],
      [5, 2],
      [3, 1],
    ]);
    expect(rows.find((r) => r.category.id === 3)!.siblings).toEqual([4, 3]);
  });

  it("turns attribute fields into a JSON Schema and back", () => {
    const fields: AttributeField[] = [
      { key: "material", label: "Material", type: "choice", required: true, choices: "linen, cotton, linen", minimum: "", maximum: "" },
      { key: "weight_g", label: "", type: "integer", required: false, choices: "", minimum: "0", maximum: "5000" },
      { key: "organic", label: "", type: "boolean", required: false, choices: "", minimum: "", maximum: "" },
    ];
    const schema = schemaFromFields(fields);
    expect(schema).toEqual({
      type: "object",
      properties: {
        material: { title: "Material", type: "string", enum: ["linen", "cotton"] },
        weight_g: { type: "integer", minimum: 0, maximum: 5000 },
        organic: { type: "boolean" },
      },
      required: ["material"],
      additionalProperties: false,
    });
    const back = fieldsFromSchema(schema);
    expect(back.lossy).toBe(false);
    expect(back.fields.map((f) => [f.key, f.type, f.required, f.choices])).toEqual([
      ["material", "choice", true, "linen, cotton"],
      ["weight_g", "integer", false, ""],
      ["organic", "boolean", false, ""],
    ]);
    expect(schemaFromFields([])).toBeNull();
    expect(fieldsFromSchema({ type: "object", properties: { code: { type: "string", pattern: "^[A-Z]+$" } } }).lossy).toBe(true);
  });

  it("says what is wrong with a field before it is sent", () => {
    const bad: AttributeField[] = [
      { key: "Weight", label: "", type: "integer", required: false, choices: "", minimum: "1.5", maximum: "x" },
      { key: "size", label: "", type: "choice", required: false, choices: " , ", minimum: "", maximum: "" },
      { key: "size", label: "", type: "text", required: false, choices: "", minimum: "", maximum: "" },
    ];
    const problems = fieldProblems(bad);
    expect(problems[0]).toEqual([
      "A key is a-z, 0-9 and _, starting with a letter (up to 50).",
      "The minimum must be a whole number.",
      "The maximum must be a number.",
    ]);
    expect(problems[1]).toEqual(["List the choices, separated by commas."]);
    expect(problems[2]).toEqual(["Another field has this key."]);
  });

  it("edits attribute fields with labelled inputs, no JSON", async () => {
    function Harness() {
      const [fields, setFields] = useState<AttributeField[]>([]);
      return (
        <>
          <AttributeSchemaEditor fields={fields} onChange={setFields} problems={fieldProblems(fields)} />
          <output>{JSON.stringify(schemaFromFields(fields))}</output>
        </>
      );
    }
    render(<Harness />);
    await userEvent.click(screen.getByRole("button", { name: "Add an attribute" }));
    await userEvent.type(screen.getByLabelText("Key"), "colour");
    await userEvent.selectOptions(screen.getByLabelText("Type"), "choice");
    await userEvent.type(screen.getByLabelText("Choices (comma-separated)"), "red, blue");
    await userEvent.click(screen.getByLabelText("Required"));
    expect(JSON.parse(document.querySelector("output")!.textContent!)).toEqual({
      type: "object",
      properties: { colour: { type: "string", enum: ["red", "blue"] } },
      required: ["colour"],
      additionalProperties: false,
    });
  });

  it("generates the product's attribute form from the category's schema", async () => {
    const seen: Record<string, unknown>[] = [];
    const schema = {
      type: "object",
      properties: { material: { title: "Material", type: "string", enum: ["linen", "cotton"] }, weight_g: { title: "Weight (g)", type: "integer" } },
      required: ["material"],
    };
    render(<ProductAttributesForm schema={schema} value={{}} onChange={(value) => seen.push(value)} />);
    expect(screen.queryByRole("textbox", { name: /json/i })).toBeNull();
    await userEvent.selectOptions(screen.getByLabelText(/Material/), "cotton");
    expect(seen.at(-1)).toMatchObject({ material: "cotton" });
    expect(screen.getByLabelText(/Weight \(g\)/)).toBeInTheDocument();
  });

  it("sums up an audit entry's change", () => {
    expect(changeSummary({ status: "paid", total: "10" }, { status: "fulfilled", total: "10" })).toBe("status: paid → fulfilled");
    expect(changeSummary(null, { name: "Shirts" })).toBe("name: Shirts");
  });

  it("shows today's figures, the to-dos and how fresh they are", () => {
    const now = Date.parse("2026-12-04T12:00:30Z");
    render(
      <MemoryRouter>
        <DashboardTodayView
          now={now}
          data={{
            as_of: "2026-12-04T12:00:00Z",
            sales_report_as_of: "2026-12-04T11:58:30Z",
            today: { date: "2026-12-04", orders_placed: 4, orders_paid: 3, revenue: { amount: "75.00", currency: "EUR" }, visitors: null },
            todo: { unfulfilled_orders: 2, low_stock_variants: 0, failed_webhooks: 1 },
          }}
        />
      </MemoryRouter>,
    );
    expect(screen.getByText(/Counted 30 s ago/)).toBeInTheDocument();
    expect(screen.getByText(/refreshed 2 min ago/)).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "2 paid orders to fulfil" })).toHaveAttribute("href", "/orders?status=paid");
    expect(screen.getByRole("link", { name: "1 webhook deliveries failing" })).toBeInTheDocument();
    expect(screen.queryByText(/low on stock/)).toBeNull();
    expect(screen.getByText("not tracked")).toBeInTheDocument();
    expect(ageText("2026-12-03T12:00:30Z", now)).toBe("1 d ago");
  });
});
