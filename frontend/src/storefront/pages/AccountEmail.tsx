// Moving the account to another e-mail: the form on the account page (the password,
// then a link is e-mailed to the new address) and the page that link opens.
import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { unwrap } from "../../api/client";
import { EMAIL_RE, ErrorMessage, Field, mergeErrors, Notice, type FieldErrors } from "../../shared/ui";
import { useApi } from "../api";
import { LinkConfirm } from "./LinkConfirm";

export function ChangeEmail({ current }: { current: string }) {
  const api = useApi();
  const [form, setForm] = useState({ email: "", password: "" });
  const [clientErrors, setClientErrors] = useState<FieldErrors>({});
  const request = useMutation({
    mutationFn: () =>
      unwrap(api.POST("/api/storefront/v1/customer/email-change", { body: { email: form.email.trim(), password: form.password } })),
  });
  const errors = mergeErrors(clientErrors, request.error);
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const found: FieldErrors = {};
    if (!EMAIL_RE.test(form.email.trim())) found.email = ["Enter a valid e-mail address."];
    else if (form.email.trim().toLowerCase() === current) found.email = ["That is your e-mail already."];
    if (!form.password) found.password = ["Enter your password."];
    setClientErrors(found);
    if (Object.keys(found).length === 0) request.mutate();
  };
  return (
    <section aria-labelledby="email-heading">
      <h2 id="email-heading">Change e-mail</h2>
      {request.isSuccess ? (
        <Notice>
          We have e-mailed a link to {form.email.trim()}. Your account moves to that address when you open it; until then it keeps{" "}
          {current}.
        </Notice>
      ) : (
        <form className="narrow" onSubmit={onSubmit} noValidate>
          <Field
            label="New e-mail"
            type="email"
            autoComplete="email"
            value={form.email}
            onChange={(e) => setForm({ ...form, email: e.target.value })}
            errors={errors.email}
            required
          />
          <Field
            label="Current password"
            type="password"
            autoComplete="current-password"
            value={form.password}
            onChange={(e) => setForm({ ...form, password: e.target.value })}
            errors={errors.password}
            required
          />
          <ErrorMessage error={request.error} fieldsShown={["email", "password"]} />
          <button type="submit" disabled={request.isPending}>
            {request.isPending ? "Sending…" : "E-mail me a link"}
          </button>
        </form>
      )}
    </section>
  );
}

export function ConfirmEmailChangePage() {
  const api = useApi();
  return (
    <LinkConfirm
      title="Confirm your new e-mail"
      confirm={(token) => unwrap(api.POST("/api/storefront/v1/customer/email-change/confirm", { body: { token } }))}
      done={(customer) => (
        <>
          Your account's e-mail is now {customer.email}. <Link to="/account">Go to your account</Link>.
        </>
      )}
      failedHint="The link may have expired or been used already. Ask for a new one from your account."
    />
  );
}
