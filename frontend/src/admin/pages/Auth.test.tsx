import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { answerWith, problemBody, renderAdmin } from "../testing";
import { LoginPage, SignupPage } from "./Auth";

describe("signing in and up", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("words a refused sign-in for a person", async () => {
    answerWith({
      "POST /api/platform/v1/auth/token": {
        status: 401,
        body: problemBody(401, "no_active_account", { title: "Authentication failed", detail: "No active account found with the given credentials" }),
      },
    });
    renderAdmin(<LoginPage />, { path: "/login", route: "/login", signedIn: false });
    const user = userEvent.setup();
    await user.type(screen.getByLabelText("E-mail"), "erin@example.com");
    await user.type(screen.getByLabelText("Password"), "wrong-password");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("That e-mail and password don't match an account. Check both and try again.");
    expect(document.body.textContent).not.toMatch(/No active account found/);
  });

  it("shows the password rule once, beside the password, without the API's wording", async () => {
    answerWith({
      "POST /api/platform/v1/auth/signup": {
        status: 400,
        body: problemBody(400, "validation_failed", { title: "Bad request", errors: { password: ["This password is too common."] } }),
      },
    });
    renderAdmin(<SignupPage />, { path: "/signup", route: "/signup", signedIn: false });
    const user = userEvent.setup();
    await user.type(screen.getByLabelText("E-mail"), "erin@example.com");
    await user.type(screen.getByLabelText("Password"), "password123");
    await user.click(screen.getByRole("button", { name: "Create account" }));
    expect(await screen.findByText("This password is too common.")).toBeInTheDocument();
    expect(screen.getAllByText(/too common/)).toHaveLength(1);
    expect(screen.getByLabelText("Password")).toHaveAttribute("aria-invalid", "true");
    expect(document.body.textContent).not.toMatch(/Bad request|password:/);
  });
});
