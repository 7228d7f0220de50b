import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { unwrap } from "../../api/client";
import { Empty, ErrorMessage, Field, Loading, mergeErrors, Notice, SelectField, type FieldErrors } from "../../shared/ui";
import { useShopApi } from "../session";
import type { Category } from "../types";
import { AttributeSchemaEditor, fieldProblems, fieldsFromSchema, schemaFromFields, type AttributeField } from "./AttributeSchema";
import { queryKeys } from "../queryKeys";

export interface TreeRow {
  category: Category;
  depth: number;
  siblings: number[];
}

/** The categories as a tree, depth first, each level by position (then id): the order shoppers see. */
export function categoryTree(categories: Category[]): TreeRow[] {
  const children = new Map<number | null, Category[]>();
  for (const category of categories) {
    const parent = category.parent ?? null;
    children.set(parent, [...(children.get(parent) ?? []), category]);
  }
  for (const list of children.values()) list.sort((a, b) => a.position - b.position || a.id - b.id);
  const rows: TreeRow[] = [];
  const visit = (parent: number | null, depth: number) => {
    const level = children.get(parent) ?? [];
    for (const category of level) {
      rows.push({ category, depth, siblings: level.map((c) => c.id) });
      visit(category.id, depth + 1);
    }
  };
  visit(null, 0);
  return rows;
}

/** The ids of a category and everything under it (it cannot move under any of them). */
function subtreeOf(rows: TreeRow[], id: number): Set<number> {
  const ids = new Set([id]);
  for (const row of rows) if (row.category.parent != null && ids.has(row.category.parent)) ids.add(row.category.id);
  return ids;
}

export function useCategoryList() {
  const { api, slug } = useShopApi();
  return useQuery({
    queryKey: queryKeys.shop(slug).categories(),
    queryFn: () => unwrap(api.GET("/api/admin/v1/categories", { params: { query: { limit: 100 } } })),
  });
}

export function CategoriesPage() {
  const { api, slug } = useShopApi();
  const queryClient = useQueryClient();
  const categories = useCategoryList();
  const [name, setName] = useState("");
  const [parent, setParent] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const [editing, setEditing] = useState<number | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: queryKeys.shop(slug).categories() });
  const create = useMutation({
    mutationFn: () => unwrap(api.POST("/api/admin/v1/categories", { body: { name: name.trim(), parent: parent ? Number(parent) : null } })),
    onSuccess: () => {
      setName("");
      refresh();
    },
  });
  const reorder = useMutation({
    mutationFn: (body: { parent: number | null; order: number[] }) => unwrap(api.POST("/api/admin/v1/categories/reorder", { body })),
    onSuccess: refresh,
  });
  const rows = categoryTree(categories.data?.results ?? []);
  const all = mergeErrors(errors, create.error);
  const move = (row: TreeRow, step: -1 | 1) => {
    const order = [...row.siblings];
    const at = order.indexOf(row.category.id);
    const to = at + step;
    if (to < 0 || to >= order.length) return;
    [order[at], order[to]] = [order[to]!, order[at]!];
    reorder.mutate({ parent: row.category.parent ?? null, order });
  };
  return (
    <>
      <h1>Categories</h1>
      <form
        className="narrow"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          const found: FieldErrors = name.trim() ? {} : { name: ["Name the category."] };
          setErrors(found);
          if (!Object.keys(found).length) create.mutate();
        }}
      >
        <div className="form-grid">
          <Field label="New category" value={name} onChange={(e) => setName(e.target.value)} errors={all.name} />
          <SelectField label="Under" value={parent} onChange={(e) => setParent(e.target.value)} errors={all.parent}>
            <option value="">Top level</option>
            {rows.map((row) => (
              <option key={row.category.id} value={row.category.id}>
                {"— ".repeat(row.depth) + row.category.name}
              </option>
            ))}
          </SelectField>
        </div>
        <ErrorMessage error={create.error} />
        <button type="submit" disabled={create.isPending}>
          Add category
        </button>
      </form>
      {categories.isPending && <Loading />}
      <ErrorMessage error={categories.error ?? reorder.error} onRetry={categories.isError ? () => categories.refetch() : undefined} />
      {categories.isSuccess && rows.length === 0 && <Empty>No categories yet.</Empty>}
      {rows.length > 0 && (
        <ul className="category-tree" aria-label="Category tree" style={{ listStyle: "none", padding: 0 }}>
          {rows.map((row) => {
            const at = row.siblings.indexOf(row.category.id);
            return (
              <li key={row.category.id} style={{ paddingLeft: `${row.depth * 1.5}rem` }}>
                <strong>{row.category.name}</strong> <span className="muted">/{row.category.slug}</span>{" "}
                {row.category.attribute_schema && <span className="badge">attributes</span>}{" "}
                <button type="button" className="secondary" disabled={at === 0 || reorder.isPending} onClick={() => move(row, -1)} aria-label={`Move ${row.category.name} up`}>
                  ↑
                </button>
                <button
                  type="button"
                  className="secondary"
                  disabled={at === row.siblings.length - 1 || reorder.isPending}
                  onClick={() => move(row, 1)}
                  aria-label={`Move ${row.category.name} down`}
                >
                  ↓
                </button>{" "}
                <button type="button" className="secondary" onClick={() => setEditing(editing === row.category.id ? null : row.category.id)} aria-expanded={editing === row.category.id}>
                  Edit {row.category.name}
                </button>
                {editing === row.category.id && (
                  <CategoryEditor key={row.category.id} category={row.category} rows={rows} onDone={() => { setEditing(null); refresh(); }} />
                )}
              </li>
            );
          })}
        </ul>
      )}
    </>
  );
}

function CategoryEditor({ category, rows, onDone }: { category: Category; rows: TreeRow[]; onDone: () => void }) {
  const { api } = useShopApi();
  const initial = fieldsFromSchema(category.attribute_schema);
  const [name, setName] = useState(category.name);
  const [parent, setParent] = useState(category.parent ? String(category.parent) : "");
  const [fields, setFields] = useState<AttributeField[]>(initial.fields);
  const [reassignTo, setReassignTo] = useState("");
  const [checked, setChecked] = useState(false);
  const problems = fieldProblems(fields);
  const invalid = problems.some((p) => p.length > 0);
  const under = subtreeOf(rows, category.id);
  const save = useMutation({
    mutationFn: () =>
      unwrap(
        api.PATCH("/api/admin/v1/categories/{category_id}", {
          params: { path: { category_id: category.id } },
          body: {
            name: name.trim(),
            parent: parent ? Number(parent) : null,
            // The generated type of a free JSON object admits no values; the schema is one.
            attribute_schema: schemaFromFields(fields) as never,
          },
        }),
      ),
    onSuccess: onDone,
  });
  const remove = useMutation({
    mutationFn: () =>
      unwrap(
        api.DELETE("/api/admin/v1/categories/{category_id}", {
          params: { path: { category_id: category.id }, query: reassignTo ? { reassign_to: Number(reassignTo) } : {} },
        }),
      ),
    onSuccess: onDone,
  });
  const errors = mergeErrors({}, save.error);
  return (
    <form
      className="category-editor"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        setChecked(true);
        if (name.trim() && !invalid) save.mutate();
      }}
    >
      <div className="form-grid">
        <Field label="Name" value={name} onChange={(e) => setName(e.target.value)} errors={checked && !name.trim() ? ["Name the category."] : errors.name} />
        <SelectField label="Parent" value={parent} onChange={(e) => setParent(e.target.value)} errors={errors.parent}>
          <option value="">Top level</option>
          {rows
            .filter((row) => !under.has(row.category.id))
            .map((row) => (
              <option key={row.category.id} value={row.category.id}>
                {"— ".repeat(row.depth) + row.category.name}
              </option>
            ))}
        </SelectField>
      </div>
      <h3>Attributes of its products</h3>
      {initial.lossy && <Notice>This schema was written through the API with rules this editor does not show; saving here keeps only the fields listed.</Notice>}
      <AttributeSchemaEditor fields={fields} onChange={setFields} problems={checked ? problems : fields.map(() => [])} />
      {errors.attribute_schema && <p className="field-error">{errors.attribute_schema.join(" ")}</p>}
      <ErrorMessage error={save.error} />
      <div className="actions">
        <button type="submit" disabled={save.isPending}>
          Save {category.name}
        </button>
      </div>
      <fieldset>
        <legend>Delete {category.name}</legend>
        <SelectField label="Move its products to" value={reassignTo} onChange={(e) => setReassignTo(e.target.value)}>
          <option value="">No category</option>
          {rows
            .filter((row) => row.category.id !== category.id)
            .map((row) => (
              <option key={row.category.id} value={row.category.id}>
                {"— ".repeat(row.depth) + row.category.name}
              </option>
            ))}
        </SelectField>
        <ErrorMessage error={remove.error} />
        <button
          type="button"
          className="danger"
          disabled={remove.isPending}
          onClick={() => {
            if (window.confirm(`Delete the category “${category.name}”?`)) remove.mutate();
          }}
        >
          Delete {category.name}
        </button>
      </fieldset>
    </form>
  );
}
