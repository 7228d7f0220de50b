import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { unwrap } from "../../api/client";
import { EMAIL_RE, ErrorMessage, Field, mergeErrors, Notice, type FieldErrors } from "../../shared/ui";
import { queryKeys } from "../queryKeys";
import { useMe, usePlatform, useSession, useSignedIn } from "../session";

const PASSWORD_HINT = "At least 8 characters, not only digits, not a common password.";

function passwordProblems(password: string): FieldErrors {
  return password.length < 8 ? { password: ["Use at least 8 characters."] } : {};
}

/** "Forgot your password?": asks for a link; says the same whether or not the address has an account. */
export function ForgotPasswordPage() {
  const platform = usePlatform();
  const [email, setEmail] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const request = useMutation({
    mutationFn: () => unwrap(platform.POST("/api/platform/v1/auth/password-reset", { body: { email: email.trim() } })),
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const found: FieldErrors = EMAIL_RE.test(email.trim()) ? {} : { email: ["Enter your e-mail address."] };
    setErrors(found);
    if (!Object.keys(found).length) request.mutate();
  };
  const all = mergeErrors(errors, request.error);
  return (
    <main id="content" className="auth">
      <h1>Reset your password</h1>
      {request.isSuccess ? (
        <Notice>If an account uses {email.trim()}, a link to choose a new password is on its way. It works once, for an hour.</Notice>
      ) : (
        <form className="narrow" onSubmit={onSubmit} noValidate>
          <Field label="E-mail" type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} errors={all.email} />
          <ErrorMessage error={request.error} />
          <button type="submit" disabled={request.isPending}>
            Send me a link
          </button>
        </form>
      )}
      <p>
        <Link to="/login">Back to sign in</Link>
      </p>
    </main>
  );
}

/** The page the reset link opens: choose a new password with the link's token. */
export function ResetPasswordPage() {
  const platform = usePlatform();
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const [password, setPassword] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const confirm = useMutation({
    mutationFn: () => unwrap(platform.POST("/api/platform/v1/auth/password-reset/confirm", { body: { token, password } })),
  });
  const all = mergeErrors(errors, confirm.error);
  return (
    <main id="content" className="auth">
      <h1>Choose a new password</h1>
      {!token && <p className="field-error">This page needs the link from the e-mail.</p>}
      {confirm.isSuccess ? (
        <Notice>
          Your password is changed, and every other session is signed out. <Link to="/login">Sign in</Link>
        </Notice>
      ) : (
        <form
          className="narrow"
          noValidate
          onSubmit={(event) => {
            event.preventDefault();
            const found = passwordProblems(password);
            setErrors(found);
            if (!Object.keys(found).length && token) confirm.mutate();
          }}
        >
          <Field label="New password" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} errors={all.password} hint={PASSWORD_HINT} />
          <ErrorMessage error={confirm.error} />
          <button type="submit" disabled={confirm.isPending || !token}>
            Set password
          </button>
        </form>
      )}
      {confirm.isError && (
        <p>
          <Link to="/forgot-password">Ask for a new link</Link>
        </p>
      )}
    </main>
  );
}

/** The page the e-mail-change link opens (sent to the new address): one click confirms it. */
export function ConfirmEmailPage() {
  const platform = usePlatform();
  const queryClient = useQueryClient();
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const confirm = useMutation({
    mutationFn: () => unwrap(platform.POST("/api/platform/v1/auth/email-change/confirm", { body: { token } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.me() }),
  });
  return (
    <main id="content" className="auth">
      <h1>Confirm your new e-mail address</h1>
      {confirm.isSuccess ? (
        <Notice>
          Your account now uses {confirm.data.email}. <Link to="/">Continue</Link>
        </Notice>
      ) : (
        <>
          <ErrorMessage error={confirm.error} />
          <button type="button" disabled={confirm.isPending || !token} onClick={() => confirm.mutate()}>
            Confirm this address
          </button>
        </>
      )}
    </main>
  );
}

/**
 * The page an invitation link opens: joins the shop. Someone without an account
 * chooses a name and password here; someone with one just accepts.
 */
export function AcceptInvitationPage() {
  const platform = usePlatform();
  const session = useSession();
  const signedIn = useSignedIn();
  const queryClient = useQueryClient();
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const [form, setForm] = useState({ name: "", password: "" });
  const [newAccount, setNewAccount] = useState(false);
  const accept = useMutation({
    mutationFn: (withAccount: boolean) =>
      unwrap(
        platform.POST("/api/platform/v1/invitations/accept", {
          body: withAccount ? { token, name: form.name.trim(), password: form.password } : { token },
        }),
      ),
    onSuccess: async (accepted) => {
      if (accepted.account_created) {
        const pair = await unwrap(platform.POST("/api/platform/v1/auth/token", { body: { email: accepted.email, password: form.password } }));
        session.signIn(pair.access, pair.refresh);
      }
      await queryClient.invalidateQueries({ queryKey: queryKeys.me() });
    },
  });
  const all = mergeErrors({}, accept.error);
  // The API asks for a password when the invited address has no account yet.
  const needsAccount = newAccount || Boolean(all.password);
  return (
    <main id="content" className="auth">
      <h1>Join a shop on Storefleet</h1>
      {!token && <p className="field-error">This page needs the link from the invitation e-mail.</p>}
      {accept.isSuccess ? (
        <Notice>
          You joined {accept.data.shop_name} as {accept.data.role}.{" "}
          {signedIn || accept.data.account_created ? <Link to={`/s/${accept.data.shop}`}>Open {accept.data.shop_name}</Link> : <Link to="/login">Sign in as {accept.data.email}</Link>}
        </Notice>
      ) : (
        <form
          className="narrow"
          noValidate
          onSubmit={(event) => {
            event.preventDefault();
            if (needsAccount && !newAccount) setNewAccount(true);
            if (!needsAccount || form.password.length >= 8) accept.mutate(needsAccount);
          }}
        >
          {needsAccount ? (
            <>
              <p>No Storefleet account uses the invited address yet: choose your name and a password.</p>
              <Field label="Your name" autoComplete="name" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} errors={all.name} />
              <Field
                label="Password"
                type="password"
                autoComplete="new-password"
                value={form.password}
                onChange={(e) => setForm({ ...form, password: e.target.value })}
                errors={newAccount ? all.password : form.password.length >= 8 ? undefined : ["Choose a password of at least 8 characters."]}
                hint={PASSWORD_HINT}
              />
            </>
          ) : (
            <p>
              Accept to join with the account of the invited address.{" "}
              <button type="button" className="link" onClick={() => setNewAccount(true)}>
                I have no account yet
              </button>
            </p>
          )}
          {!all.password && <ErrorMessage error={accept.error} />}
          <button type="submit" disabled={accept.isPending || !token}>
            Accept the invitation
          </button>
        </form>
      )}
    </main>
  );
}

/** The signed-in user's account: change the e-mail address (confirmed by a link to the new one). */
export function AccountPage() {
  const platform = usePlatform();
  const me = useMe();
  const [form, setForm] = useState({ email: "", password: "" });
  const [errors, setErrors] = useState<FieldErrors>({});
  const change = useMutation({
    mutationFn: () => unwrap(platform.POST("/api/platform/v1/auth/email-change", { body: { email: form.email.trim(), password: form.password } })),
  });
  const all = mergeErrors(errors, change.error);
  return (
    <>
      <h1>Your account</h1>
      <p>
        Signed in as <strong>{me.data?.email}</strong>.
      </p>
      <h2>Change your e-mail address</h2>
      {change.isSuccess ? (
        <Notice>A confirmation link went to {form.email.trim()}. Your address changes when you follow it.</Notice>
      ) : (
        <form
          className="narrow"
          noValidate
          onSubmit={(event) => {
            event.preventDefault();
            const found: FieldErrors = {};
            if (!EMAIL_RE.test(form.email.trim())) found.email = ["Enter the new address."];
            if (!form.password) found.password = ["Enter your current password."];
            setErrors(found);
            if (!Object.keys(found).length) change.mutate();
          }}
        >
          <Field label="New e-mail" type="email" autoComplete="email" value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} errors={all.email} />
          <Field
            label="Current password"
            type="password"
            autoComplete="current-password"
            value={form.password}
            onChange={(e) => setForm({ ...form, password: e.target.value })}
            errors={all.password}
          />
          <ErrorMessage error={change.error} />
          <button type="submit" disabled={change.isPending}>
            Send a confirmation link
          </button>
        </form>
      )}
    </>
  );
}
