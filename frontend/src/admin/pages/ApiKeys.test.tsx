import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { answerWith, problemBody, renderAdmin } from "../testing";
import { ApiKeysPage } from "./ApiKeys";

const EMPTY = { results: [], next: null, previous: null };

describe("API keys", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("starts with no scope ticked, so a click adds the scope instead of removing it", async () => {
    const calls = answerWith({
      "GET /api/admin/v1/api-keys": { body: EMPTY },
      "POST /api/admin/v1/api-keys": (call) => ({
        status: 201,
        body: { id: 1, name: "ERP", prefix: "sf_abc", scopes: (call.body as { scopes: string[] }).scopes, key: "sf_abc.secret", created_at: "", last_used_at: null, revoked_at: null },
      }),
    });
    renderAdmin(<ApiKeysPage />);
    const boxes = await screen.findAllByRole("checkbox");
    expect(boxes).toHaveLength(5);
    for (const box of boxes) expect(box).not.toBeChecked();

    const user = userEvent.setup();
    await user.type(screen.getByLabelText("Key name"), "ERP");
    await user.click(screen.getByRole("checkbox", { name: /Read the catalog/ }));
    expect(screen.getByRole("checkbox", { name: /Read the catalog/ })).toBeChecked();
    await user.click(screen.getByRole("button", { name: "Create key" }));

    expect(await screen.findByLabelText("New API key")).toHaveTextContent("sf_abc.secret");
    expect(await screen.findByText("API key created.")).toBeInTheDocument();
    const post = calls.find((c) => c.method === "POST");
    expect(post?.body).toEqual({ name: "ERP", scopes: ["catalog:read"] });
    // The form is fresh again for the next key.
    for (const box of screen.getAllByRole("checkbox")) expect(box).not.toBeChecked();
  });

  it("shows a field's error once, beside its field", async () => {
    answerWith({
      "GET /api/admin/v1/api-keys": { body: EMPTY },
      "POST /api/admin/v1/api-keys": { status: 400, body: problemBody(400, "validation_failed", { title: "Bad request", errors: { name: ["Ensure this field has no more than 100 characters."] } }) },
    });
    renderAdmin(<ApiKeysPage />);
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText("Key name"), "A very long name");
    await user.click(screen.getByRole("checkbox", { name: /Read orders/ }));
    await user.click(screen.getByRole("button", { name: "Create key" }));
    await waitFor(() => expect(screen.getAllByText(/no more than 100 characters/)).toHaveLength(1));
    const alert = screen.getByRole("alert");
    expect(within(alert).getByText("Check the fields marked below.")).toBeInTheDocument();
    expect(document.body.textContent).not.toMatch(/Bad request/);
  });
});
