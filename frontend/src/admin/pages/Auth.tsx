import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router-dom";
import { unwrap } from "../../api/client";
import { EMAIL_RE, ErrorMessage, Field, mergeErrors, type FieldErrors } from "../../shared/ui";
import { usePlatform, useSession } from "../session";

function useSignIn() {
  const platform = usePlatform();
  const session = useSession();
  const queryClient = useQueryClient();
  return async (email: string, password: string) => {
    const pair = await unwrap(platform.POST("/api/platform/v1/auth/token", { body: { email, password } }));
    queryClient.clear();
    session.signIn(pair.access, pair.refresh);
  };
}

export function LoginPage() {
  const signIn = useSignIn();
  const navigate = useNavigate();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const login = useMutation({
    mutationFn: () => signIn(email.trim(), password),
    onSuccess: () => navigate("/"),
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const found: FieldErrors = {};
    if (!EMAIL_RE.test(email.trim())) found.email = ["Enter your e-mail address."];
    if (!password) found.password = ["Enter your password."];
    setErrors(found);
    if (!Object.keys(found).length) login.mutate();
  };
  const all = mergeErrors(errors, login.error);
  return (
    <main id="content" className="auth">
      <h1>Sign in to Storefleet</h1>
      <form className="narrow" onSubmit={onSubmit} noValidate>
        <Field label="E-mail" type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} errors={all.email} />
        <Field label="Password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} errors={all.password} />
        <ErrorMessage error={login.error} fieldsShown={["email", "password"]} />
        <button type="submit" disabled={login.isPending}>
          {login.isPending ? "Signing in…" : "Sign in"}
        </button>
      </form>
      <p>
        <Link to="/forgot-password">Forgot your password?</Link>
      </p>
      <p>
        New here? <Link to="/signup">Create an account</Link>
      </p>
    </main>
  );
}

export function SignupPage() {
  const platform = usePlatform();
  const signIn = useSignIn();
  const navigate = useNavigate();
  const [form, setForm] = useState({ name: "", email: "", password: "" });
  const [errors, setErrors] = useState<FieldErrors>({});
  const signup = useMutation({
    mutationFn: async () => {
      await unwrap(
        platform.POST("/api/platform/v1/auth/signup", {
          body: { name: form.name.trim(), email: form.email.trim(), password: form.password },
        }),
      );
      await signIn(form.email.trim(), form.password);
    },
    onSuccess: () => navigate("/shops/new"),
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const found: FieldErrors = {};
    if (!EMAIL_RE.test(form.email.trim())) found.email = ["Enter a valid e-mail address."];
    if (form.password.length < 8) found.password = ["Use at least 8 characters."];
    setErrors(found);
    if (!Object.keys(found).length) signup.mutate();
  };
  const all = mergeErrors(errors, signup.error);
  const set = (name: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [name]: e.target.value });
  return (
    <main id="content" className="auth">
      <h1>Create your Storefleet account</h1>
      <form className="narrow" onSubmit={onSubmit} noValidate>
        <Field label="Your name" autoComplete="name" value={form.name} onChange={set("name")} errors={all.name} />
        <Field label="E-mail" type="email" autoComplete="email" value={form.email} onChange={set("email")} errors={all.email} />
        <Field
          label="Password"
          type="password"
          autoComplete="new-password"
          value={form.password}
          onChange={set("password")}
          errors={all.password}
          hint="At least 8 characters, not only digits, not a common password."
        />
        <ErrorMessage error={signup.error} fieldsShown={["name", "email", "password"]} />
        <button type="submit" disabled={signup.isPending}>
          {signup.isPending ? "Creating account…" : "Create account"}
        </button>
      </form>
      <p>
        Have an account? <Link to="/login">Sign in</Link>
      </p>
    </main>
  );
}
