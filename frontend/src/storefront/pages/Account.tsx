// The shopper's account with this shop: sign up, sign in, verify the e-mail,
// forgotten and new password, and the account page (profile, saved addresses,
// order history with re-order). Tokens live in this host's localStorage
// (CUSTOMER_SESSION); every call goes through the Storefront API client.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, Navigate, useNavigate, useSearchParams } from "react-router-dom";
import { unwrap } from "../../api/client";
import { formatMoney, money } from "../../api/money";
import { ApiError } from "../../api/problems";
import { EMAIL_RE, Empty, ErrorMessage, Field, Loading, mergeErrors, Notice, type FieldErrors } from "../../shared/ui";
import { adoptCart, useApi, useCustomer, useCustomerSession, useSignedIn } from "../api";
import type { Components, ShippingAddress } from "../types";
import { CountrySelect } from "../../shared/CountrySelect";
import { ChangeEmail } from "./AccountEmail";
import { LinkConfirm } from "./LinkConfirm";

type Address = Components["CustomerAddressOutput"];

function requireEmail(email: string, errors: FieldErrors) {
  if (!EMAIL_RE.test(email.trim())) errors.email = ["Enter a valid e-mail address."];
}

function requirePassword(password: string, errors: FieldErrors, field = "password") {
  if (password.length < 8) errors[field] = ["Use at least 8 characters."];
}

/** Sign in and keep the pair; the caller decides where to go next. */
function useSignIn() {
  const api = useApi();
  const session = useCustomerSession();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: { email: string; password: string }) => unwrap(api.POST("/api/storefront/v1/customer/token", { body })),
    onSuccess: (pair) => {
      session.signIn(pair.access, pair.refresh);
      queryClient.removeQueries({ queryKey: ["customer"] });
    },
  });
}

export function SignUpPage() {
  const api = useApi();
  const navigate = useNavigate();
  const signIn = useSignIn();
  const [form, setForm] = useState({ name: "", email: "", password: "" });
  const [clientErrors, setClientErrors] = useState<FieldErrors>({});
  const signUp = useMutation({
    mutationFn: async () => {
      const body = { name: form.name.trim(), email: form.email.trim(), password: form.password };
      await unwrap(api.POST("/api/storefront/v1/customer/signup", { body }));
      await signIn.mutateAsync({ email: body.email, password: body.password });
    },
    onSuccess: () => navigate("/account", { state: { welcome: true } }),
  });
  const errors = mergeErrors(clientErrors, signUp.error);
  const taken = signUp.error instanceof ApiError && signUp.error.problem.code === "customer_email_taken";
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const found: FieldErrors = {};
    requireEmail(form.email, found);
    requirePassword(form.password, found);
    setClientErrors(found);
    if (Object.keys(found).length === 0) signUp.mutate();
  };
  const set = (name: keyof typeof form) => (event: { target: { value: string } }) =>
    setForm((current) => ({ ...current, [name]: event.target.value }));
  return (
    <>
      <h1>Create an account</h1>
      <p>Keep your addresses, see your orders and order again. Already have an account? <Link to="/account/signin">Sign in</Link>.</p>
      <form className="narrow" onSubmit={onSubmit} noValidate>
        <Field label="Name" autoComplete="name" value={form.name} onChange={set("name")} errors={errors.name} />
        <Field label="E-mail" type="email" autoComplete="email" value={form.email} onChange={set("email")} errors={errors.email} required />
        <Field
          label="Password"
          type="password"
          autoComplete="new-password"
          value={form.password}
          onChange={set("password")}
          errors={errors.password}
          hint="At least 8 characters, not only digits."
          required
        />
        {taken ? (
          <ErrorMessage error={new Error("This e-mail has an account here. Sign in, or reset its password.")} />
        ) : (
          <ErrorMessage error={signUp.error} />
        )}
        <div className="actions">
          <button type="submit" disabled={signUp.isPending}>
            {signUp.isPending ? "Creating…" : "Create account"}
          </button>
          {taken && <Link to="/account/forgot">Forgot your password?</Link>}
        </div>
      </form>
    </>
  );
}

export function SignInPage() {
  const navigate = useNavigate();
  const signIn = useSignIn();
  const [form, setForm] = useState({ email: "", password: "" });
  const [clientErrors, setClientErrors] = useState<FieldErrors>({});
  const errors = mergeErrors(clientErrors, signIn.error);
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const found: FieldErrors = {};
    requireEmail(form.email, found);
    if (!form.password) found.password = ["Enter your password."];
    setClientErrors(found);
    if (Object.keys(found).length === 0) {
      signIn.mutate({ email: form.email.trim(), password: form.password }, { onSuccess: () => navigate("/account") });
    }
  };
  const refused = signIn.error instanceof ApiError && signIn.error.status === 401;
  return (
    <>
      <h1>Sign in</h1>
      <form className="narrow" onSubmit={onSubmit} noValidate>
        <Field label="E-mail" type="email" autoComplete="email" value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} errors={errors.email} required />
        <Field
          label="Password"
          type="password"
          autoComplete="current-password"
          value={form.password}
          onChange={(e) => setForm({ ...form, password: e.target.value })}
          errors={errors.password}
          required
        />
        {refused ? <ErrorMessage error={new Error("Wrong e-mail or password.")} /> : <ErrorMessage error={signIn.error} />}
        <div className="actions">
          <button type="submit" disabled={signIn.isPending}>
            {signIn.isPending ? "Signing in…" : "Sign in"}
          </button>
          <Link to="/account/forgot">Forgot your password?</Link>
        </div>
      </form>
      <p>
        New here? <Link to="/account/signup">Create an account</Link>.
      </p>
    </>
  );
}

export function VerifyEmailPage() {
  const api = useApi();
  return (
    <LinkConfirm
      title="Confirm your e-mail"
      confirm={(token) => unwrap(api.POST("/api/storefront/v1/customer/verify-email", { body: { token } }))}
      done={(customer) => (
        <>
          Your e-mail {customer.email} is confirmed. <Link to="/account">Go to your account</Link>.
        </>
      )}
      failedHint="The link may have expired or been used already. Sign in and ask for a new one from your account."
    />
  );
}

export function ForgotPasswordPage() {
  const api = useApi();
  const [email, setEmail] = useState("");
  const [clientErrors, setClientErrors] = useState<FieldErrors>({});
  const request = useMutation({
    mutationFn: () => unwrap(api.POST("/api/storefront/v1/customer/password-reset", { body: { email: email.trim() } })),
  });
  const errors = mergeErrors(clientErrors, request.error);
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const found: FieldErrors = {};
    requireEmail(email, found);
    setClientErrors(found);
    if (Object.keys(found).length === 0) request.mutate();
  };
  return (
    <>
      <h1>Forgot your password?</h1>
      {request.isSuccess ? (
        <Notice>If an account uses {email.trim()}, we have e-mailed it a link to choose a new password. The link works once.</Notice>
      ) : (
        <form className="narrow" onSubmit={onSubmit} noValidate>
          <Field label="E-mail" type="email" autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} errors={errors.email} required />
          <ErrorMessage error={request.error} />
          <button type="submit" disabled={request.isPending}>
            E-mail me a link
          </button>
        </form>
      )}
    </>
  );
}

export function ResetPasswordPage() {
  const api = useApi();
  const session = useCustomerSession();
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const [password, setPassword] = useState("");
  const [clientErrors, setClientErrors] = useState<FieldErrors>({});
  const reset = useMutation({
    mutationFn: () => unwrap(api.POST("/api/storefront/v1/customer/password-reset/confirm", { body: { token, password } })),
    onSuccess: () => session.signOut(), // every earlier session ended with the old password
  });
  const errors = mergeErrors(clientErrors, reset.error);
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const found: FieldErrors = {};
    requirePassword(password, found);
    setClientErrors(found);
    if (Object.keys(found).length === 0) reset.mutate();
  };
  if (!token) return <ErrorMessage error={new Error("This link lacks its token; open the link from the e-mail again.")} />;
  return (
    <>
      <h1>Choose a new password</h1>
      {reset.isSuccess ? (
        <Notice>
          Your password is changed. <Link to="/account/signin">Sign in</Link> with it.
        </Notice>
      ) : (
        <form className="narrow" onSubmit={onSubmit} noValidate>
          <Field label="New password" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} errors={errors.password} required />
          <ErrorMessage error={reset.error} />
          {reset.error instanceof ApiError && reset.error.problem.code === "customer_link_invalid" && (
            <p>
              <Link to="/account/forgot">Ask for a new link</Link>.
            </p>
          )}
          <button type="submit" disabled={reset.isPending}>
            Save the new password
          </button>
        </form>
      )}
    </>
  );
}

// --- the account page ------------------------------------------------------------------

/**
 * Sign out on the server (every token of the account is refused from then on, on
 * every device), then here; a failed call still forgets the tokens in this browser.
 */
function useSignOut() {
  const api = useApi();
  const session = useCustomerSession();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(api.POST("/api/storefront/v1/customer/logout")),
    onSettled: () => {
      session.signOut();
      queryClient.removeQueries({ queryKey: ["customer"] });
    },
  });
}

export function AccountPage() {
  const signedIn = useSignedIn();
  const signOut = useSignOut();
  const me = useCustomer();
  if (!signedIn) return <Navigate to="/account/signin" replace />;
  return (
    <>
      <h1>Your account</h1>
      {me.isLoading && <Loading label="Loading your account…" />}
      <ErrorMessage error={me.error} />
      {me.data && <Profile customer={me.data} />}
      {me.data && <ChangeEmail current={me.data.email} />}
      <Addresses />
      <OrderHistory />
      <p>
        <button type="button" className="secondary" onClick={() => signOut.mutate()} disabled={signOut.isPending}>
          {signOut.isPending ? "Signing out…" : "Sign out"}
        </button>
      </p>
    </>
  );
}

function Profile({ customer }: { customer: Components["CustomerAccountOutput"] }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [name, setName] = useState(customer.name);
  const save = useMutation({
    mutationFn: () => unwrap(api.PATCH("/api/storefront/v1/customer/me", { body: { name: name.trim() } })),
    onSuccess: (data) => queryClient.setQueryData(["customer", "me", true], data),
  });
  const resend = useMutation({ mutationFn: () => unwrap(api.POST("/api/storefront/v1/customer/verify-email/resend")) });
  return (
    <section aria-labelledby="profile-heading">
      <h2 id="profile-heading">Profile</h2>
      <p>
        {customer.email}{" "}
        {customer.email_verified ? <span className="badge ok">confirmed</span> : <span className="badge warn">not confirmed</span>}
      </p>
      {!customer.email_verified && (
        <div className="actions">
          <span className="muted">Confirm your e-mail to see orders you placed as a guest.</span>
          <button type="button" className="secondary" onClick={() => resend.mutate()} disabled={resend.isPending || resend.isSuccess}>
            {resend.isSuccess ? "Link sent" : "E-mail the link again"}
          </button>
        </div>
      )}
      <form
        className="narrow"
        onSubmit={(event) => {
          event.preventDefault();
          save.mutate();
        }}
      >
        <Field label="Name" autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} errors={mergeErrors({}, save.error).name} />
        <ErrorMessage error={save.error} />
        <button type="submit" disabled={save.isPending}>
          {save.isSuccess && !save.isPending ? "Saved" : "Save"}
        </button>
      </form>
    </section>
  );
}

const EMPTY_ADDRESS = { name: "", line1: "", line2: "", city: "", postal_code: "", country: "" };

function Addresses() {
  const api = useApi();
  const queryClient = useQueryClient();
  const addresses = useQuery({
    queryKey: ["customer", "addresses"],
    queryFn: () => unwrap(api.GET("/api/storefront/v1/customer/addresses")),
  });
  const [form, setForm] = useState(EMPTY_ADDRESS);
  const [clientErrors, setClientErrors] = useState<FieldErrors>({});
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["customer", "addresses"] });
  const add = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/storefront/v1/customer/addresses", {
          body: { ...form, country: form.country.trim().toUpperCase() as ShippingAddress["country"], is_default: false },
        }),
      ),
    onSuccess: () => {
      setForm(EMPTY_ADDRESS);
      refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (id: number) => unwrap(api.DELETE("/api/storefront/v1/customer/addresses/{address_id}", { params: { path: { address_id: id } } })),
    onSuccess: refresh,
  });
  const makeDefault = useMutation({
    mutationFn: (id: number) =>
      unwrap(api.PATCH("/api/storefront/v1/customer/addresses/{address_id}", { params: { path: { address_id: id } }, body: { is_default: true } })),
    onSuccess: refresh,
  });
  const errors = mergeErrors(clientErrors, add.error);
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const found: FieldErrors = {};
    for (const [name, label] of [
      ["name", "Name"],
      ["line1", "Address"],
      ["city", "City"],
      ["postal_code", "Postal code"],
    ] as const) {
      if (!form[name].trim()) found[name] = [`${label} is required.`];
    }
    if (!/^[A-Za-z]{2}$/.test(form.country.trim())) found.country = ["Use the two-letter country code, e.g. DE."];
    setClientErrors(found);
    if (Object.keys(found).length === 0) add.mutate();
  };
  const set = (name: keyof typeof EMPTY_ADDRESS) => (event: { target: { value: string } }) =>
    setForm((current) => ({ ...current, [name]: event.target.value }));
  return (
    <section aria-labelledby="addresses-heading">
      <h2 id="addresses-heading">Addresses</h2>
      {addresses.isLoading && <Loading label="Loading addresses…" />}
      <ErrorMessage error={addresses.error ?? remove.error ?? makeDefault.error} />
      {addresses.data && addresses.data.length === 0 && <Empty>No saved addresses yet.</Empty>}
      <ul className="plain">
        {addresses.data?.map((address: Address) => (
          <li key={address.id}>
            <address>
              {address.name}, {address.line1}
              {address.line2 && `, ${address.line2}`}, {address.postal_code} {address.city}, {address.country}
            </address>
            <div className="actions">
              {address.is_default ? (
                <span className="badge ok">default</span>
              ) : (
                <button type="button" className="secondary" onClick={() => makeDefault.mutate(address.id)}>
                  Make default
                </button>
              )}
              <button type="button" className="secondary" onClick={() => remove.mutate(address.id)} aria-label={`Delete the address ${address.line1}`}>
                Delete
              </button>
            </div>
          </li>
        ))}
      </ul>
      <form onSubmit={onSubmit} noValidate aria-label="Add an address">
        <fieldset>
          <legend>Add an address</legend>
          <div className="form-grid">
            <Field label="Full name" autoComplete="name" value={form.name} onChange={set("name")} errors={errors.name} />
            <Field label="Address" autoComplete="address-line1" value={form.line1} onChange={set("line1")} errors={errors.line1} />
            <Field label="Address line 2 (optional)" autoComplete="address-line2" value={form.line2} onChange={set("line2")} errors={errors.line2} />
            <Field label="City" autoComplete="address-level2" value={form.city} onChange={set("city")} errors={errors.city} />
            <Field label="Postal code" autoComplete="postal-code" value={form.postal_code} onChange={set("postal_code")} errors={errors.postal_code} />
            <CountrySelect value={form.country} onChange={(country) => set("country")({ target: { value: country } })} errors={errors.country} />
          </div>
          <ErrorMessage error={add.error} />
          <button type="submit" disabled={add.isPending}>
            Save address
          </button>
        </fieldset>
      </form>
    </section>
  );
}

function OrderHistory() {
  const api = useApi();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const orders = useQuery({
    queryKey: ["customer", "orders"],
    queryFn: () => unwrap(api.GET("/api/storefront/v1/customer/orders")),
  });
  const [unavailable, setUnavailable] = useState<string[]>([]);
  const reorder = useMutation({
    mutationFn: (number: number) =>
      unwrap(api.POST("/api/storefront/v1/customer/orders/{number}/reorder", { params: { path: { number } }, body: {} })),
    onSuccess: (result) => {
      adoptCart(result.cart.id);
      queryClient.setQueryData(["cart", result.cart.id], result.cart);
      setUnavailable(result.unavailable);
      if (result.unavailable.length === 0) navigate("/cart");
    },
  });
  return (
    <section aria-labelledby="orders-heading">
      <h2 id="orders-heading">Orders</h2>
      {orders.isLoading && <Loading label="Loading your orders…" />}
      <ErrorMessage error={orders.error ?? reorder.error} />
      {unavailable.length > 0 && (
        <Notice>
          In your cart now, except what is no longer available: {unavailable.join(", ")}. <Link to="/cart">Go to the cart</Link>.
        </Notice>
      )}
      {orders.data && orders.data.results.length === 0 && <Empty>No orders yet.</Empty>}
      {orders.data && orders.data.results.length > 0 && (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Your orders</caption>
            <thead>
              <tr>
                <th scope="col">Order</th>
                <th scope="col">Placed</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">Total</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {orders.data.results.map((order) => (
                <tr key={order.number}>
                  <td>#{order.number}</td>
                  <td>{new Date(order.placed_at).toLocaleDateString()}</td>
                  <td>
                    <span className="badge">{order.status}</span>
                  </td>
                  <td className="num">{formatMoney(money(order.total))}</td>
                  <td>
                    <button type="button" className="secondary" onClick={() => reorder.mutate(order.number)} disabled={reorder.isPending}>
                      Order again<span className="visually-hidden"> #{order.number}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
