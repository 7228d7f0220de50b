import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router-dom";
import { newIdempotencyKey, unwrap } from "../../api/client";
import { formatMoney, money } from "../../api/money";
import { ApiError } from "../../api/problems";
import { COUNTRIES, CountrySelect } from "../../shared/CountrySelect";
import { fetchRegions, regionAllowed, RegionSelect, REGIONS_STALE_MS, type Region } from "../../shared/RegionSelect";
import { EMAIL_RE, ErrorMessage, Field, Loading, mergeErrors, SelectField, type FieldErrors } from "../../shared/ui";
import { cartNoticeFor, forgetCart, loseCart, useApi, useCart, useCartChoices, useCustomer, useShippingMethods, useSignedIn } from "../api";
import { Totals } from "../../shared/Totals";
import type { Cart, ShippingAddress } from "../types";
import { DiscountCodeForm, NoCart } from "./Cart";

const ADDRESS_FIELDS = ["name", "line1", "line2", "city", "postal_code", "country", "region"] as const;

function addressOf(form: Form) {
  return {
    name: form.name.trim(),
    line1: form.line1.trim(),
    line2: form.line2.trim(),
    city: form.city.trim(),
    postal_code: form.postal_code.trim(),
    country: form.country as ShippingAddress["country"], // one of COUNTRIES (validateCheckout)
    region: form.region,
  };
}

/** The chosen country's regions (ISO 3166-2), read when a country is picked: the list the API checks. */
function useRegions(country: string) {
  const api = useApi();
  return useQuery({
    queryKey: ["regions", country],
    enabled: Boolean(country),
    staleTime: REGIONS_STALE_MS,
    queryFn: () => fetchRegions(api, country),
  });
}

/** The shipping methods for the saved address, priced by the API; choosing one re-prices the cart. */
function ShippingChoice({
  cart,
  form,
  regions,
  onAddressErrors,
}: {
  cart: Cart;
  form: Form;
  regions: readonly Region[] | undefined;
  onAddressErrors: (errors: FieldErrors) => void;
}) {
  const { address, method } = useCartChoices();
  const saved = cart.shipping_address;
  const current = addressOf(form);
  const upToDate = saved !== null && ADDRESS_FIELDS.every((name) => (saved[name] ?? "") === current[name]);
  const methods = useShippingMethods(cart.id, upToDate);
  const save = () => {
    const found = validateCheckout({ ...form, email: "a@b.co", card_number: "4242424242424242" }, regions);
    onAddressErrors(found);
    if (Object.keys(found).length === 0) address.mutate({ cartId: cart.id, address: current });
  };
  return (
    <fieldset>
      <legend>Shipping method</legend>
      {!upToDate ? (
        <button type="button" className="secondary" onClick={save} disabled={address.isPending}>
          Show shipping options for this address
        </button>
      ) : methods.isLoading ? (
        <Loading label="Finding shipping options…" />
      ) : methods.data && methods.data.length > 0 ? (
        <div role="radiogroup" aria-label="Shipping method">
          {methods.data.map((offer) => (
            <label key={offer.id} className="checkbox">
              <input
                type="radio"
                name="shipping-method"
                value={offer.id}
                checked={cart.shipping_method?.id === offer.id}
                onChange={() => method.mutate({ cartId: cart.id, method: offer.id })}
              />
              {offer.name} — {formatMoney(money(offer.price))}
              {offer.min_days !== null && offer.max_days !== null && (
                <span className="muted">
                  {" "}
                  ({offer.min_days}–{offer.max_days} days)
                </span>
              )}
              {offer.pickup && <span className="muted"> (pick up)</span>}
            </label>
          ))}
        </div>
      ) : (
        <p className="muted">No shipping charge for this address.</p>
      )}
      <ErrorMessage error={address.error ?? method.error ?? methods.error} />
    </fieldset>
  );
}

const EMPTY_FORM = {
  email: "",
  name: "",
  line1: "",
  line2: "",
  city: "",
  postal_code: "",
  country: "",
  region: "",
  provider: "test",
  card_number: "",
};

type Form = typeof EMPTY_FORM;

/** What the form says is wrong before the API is asked; `regions` are the chosen country's (when read). */
export function validateCheckout(form: Form, regions?: readonly Region[]): FieldErrors {
  const errors: FieldErrors = {};
  const required = (name: keyof Form, label: string) => {
    if (!form[name].trim()) errors[name] = [`${label} is required.`];
  };
  if (!EMAIL_RE.test(form.email.trim())) errors.email = ["Enter a valid e-mail address."];
  required("name", "Name");
  required("line1", "Address");
  required("city", "City");
  required("postal_code", "Postal code");
  if (!COUNTRIES.some(([code]) => code === form.country)) errors.country = ["Choose a country."];
  else if (regions && !regionAllowed(form.region, regions)) errors.region = ["Choose a region of this country."];
  if (form.provider === "test" && !/^\d{12,19}$/.test(form.card_number.replace(/\s/g, ""))) {
    errors.card_number = ["Enter the card number (digits only)."];
  }
  return errors;
}

// One Idempotency-Key per checkout attempt, kept (per cart, for this tab) until the attempt
// gets a final answer: the same order sent again after an answer that says nothing about
// it (no answer at all, a 5xx, "still in progress", "too many requests") reuses the key, so
// the retry replays the order if it was placed instead of placing and charging a second
// one. A changed form is a new attempt, with a new key.
const ATTEMPT_KEY = "storefleet.checkout-attempt.";

type Attempt = { key: string; body: string };

export function checkoutAttemptKey(cartId: string, body: unknown): string {
  const serialized = JSON.stringify(body);
  const stored = window.sessionStorage.getItem(ATTEMPT_KEY + cartId);
  const attempt = stored ? (JSON.parse(stored) as Attempt) : null;
  if (attempt && attempt.body === serialized) return attempt.key;
  const key = newIdempotencyKey();
  window.sessionStorage.setItem(ATTEMPT_KEY + cartId, JSON.stringify({ key, body: serialized } satisfies Attempt));
  return key;
}

function checkoutAttemptEnd(cartId: string): void {
  window.sessionStorage.removeItem(ATTEMPT_KEY + cartId);
}

/** What the button does: a card is charged now; "pay later" only places the order. */
export function checkoutButtonLabel(provider: string, pending: boolean, amount: string): string {
  if (pending) return "Placing order…";
  return provider === "manual" ? "Place order, pay later" : `Pay ${amount}`;
}

/** Whether an error is the checkout's final answer (a refusal), not silence about its outcome. */
function isFinalAnswer(error: unknown): boolean {
  if (!(error instanceof ApiError)) return false; // no answer: it may have been placed
  const { status, code } = error.problem;
  return status < 500 && status !== 429 && code !== "idempotency_request_in_flight";
}

export function CheckoutPage() {
  const api = useApi();
  const cart = useCart();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [form, setForm] = useState(EMPTY_FORM);
  const [clientErrors, setClientErrors] = useState<FieldErrors>({});
  const regions = useRegions(form.country);
  // Manual payment is offered only where the merchant turned it on.
  const methods = useQuery({
    queryKey: ["payment-methods"],
    queryFn: () => unwrap(api.GET("/api/storefront/v1/payment-methods")),
    staleTime: 60_000,
  });
  const manualAccepted = methods.data?.providers.includes("manual") ?? false;

  // A signed-in customer's e-mail and default address fill the form once (the order goes
  // into their account: the client sends their token with the checkout).
  const signedIn = useSignedIn();
  const me = useCustomer();
  const addresses = useQuery({
    queryKey: ["customer", "addresses"],
    enabled: signedIn,
    queryFn: () => unwrap(api.GET("/api/storefront/v1/customer/addresses")),
  });
  const prefilled = useRef(false);
  useEffect(() => {
    if (prefilled.current || !me.data || !addresses.data) return;
    prefilled.current = true;
    const address = addresses.data.find((candidate) => candidate.is_default);
    setForm((current) => ({
      ...current,
      email: current.email || me.data.email,
      ...(address && !current.line1
        ? { name: address.name, line1: address.line1, line2: address.line2, city: address.city, postal_code: address.postal_code, country: address.country, region: "" }
        : {}),
    }));
  }, [me.data, addresses.data]);

  const checkout = useMutation({
    mutationFn: (cartId: string) => {
      const chosen = cart.data?.shipping_method?.id;
      const body = {
        cart: cartId,
        email: form.email.trim(),
        shipping_address: addressOf(form),
        ...(chosen ? { shipping_method: chosen } : {}),
        payment_method:
          form.provider === "test"
            ? { provider: "test" as const, card_number: form.card_number.replace(/\s/g, "") }
            : { provider: "manual" as const },
      };
      return unwrap(
        api.POST("/api/storefront/v1/checkout", {
          params: { header: { "Idempotency-Key": checkoutAttemptKey(cartId, body) } },
          body,
        }),
      );
    },
    onError: (error, cartId) => {
      if (isFinalAnswer(error)) checkoutAttemptEnd(cartId); // a decline: paying again is a new attempt
      const notice = cartNoticeFor(error);
      if (notice) {
        loseCart(notice);
        queryClient.removeQueries({ queryKey: ["cart"] });
      }
    },
    onSuccess: (order, cartId) => {
      checkoutAttemptEnd(cartId);
      // A payment still to confirm (3-D Secure) keeps the cart: a refused confirmation gives it back.
      if (!order.payment_action_url) forgetCart();
      queryClient.removeQueries({ queryKey: ["cart"] });
      queryClient.invalidateQueries({ queryKey: ["products"] });
      queryClient.invalidateQueries({ queryKey: ["product"] });
      navigate(`/orders/${order.number}?token=${encodeURIComponent(order.token)}`, { state: { placed: true } });
    },
  });

  if (cart.isLoading) return <Loading label="Loading your cart…" />;
  if (cart.isError) return <ErrorMessage error={cart.error} onRetry={() => cart.refetch()} />;
  const data = cart.data;
  if (!data || data.lines.length === 0) return <NoCart />;

  const set = (name: keyof Form) => (event: { target: { value: string } }) =>
    setForm((current) => ({ ...current, [name]: event.target.value }));
  const errors = mergeErrors(clientErrors, checkout.error);
  const addressErrors = (name: string) => errors[name] ?? errors[`shipping_address.${name}`] ?? [];

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const found = validateCheckout(form, regions.data);
    setClientErrors(found);
    if (Object.keys(found).length === 0) checkout.mutate(data.id);
  };

  return (
    <>
      <h1>Checkout</h1>
      <p>
        {data.item_count} item{data.item_count === 1 ? "" : "s"}, subtotal <strong>{formatMoney(money(data.subtotal))}</strong>.{" "}
        <Link to="/cart">Change cart</Link>
      </p>
      <DiscountCodeForm cart={data} />
      <Totals breakdown={data} />
      <form onSubmit={onSubmit} noValidate>
        <fieldset>
          <legend>Contact</legend>
          <Field label="E-mail" type="email" autoComplete="email" value={form.email} onChange={set("email")} errors={errors.email} required />
        </fieldset>
        <fieldset>
          <legend>Shipping address</legend>
          <div className="form-grid">
            <Field label="Full name" autoComplete="name" value={form.name} onChange={set("name")} errors={addressErrors("name")} required />
            <Field label="Address" autoComplete="address-line1" value={form.line1} onChange={set("line1")} errors={addressErrors("line1")} required />
            <Field label="Address line 2 (optional)" autoComplete="address-line2" value={form.line2} onChange={set("line2")} errors={addressErrors("line2")} />
            <Field label="City" autoComplete="address-level2" value={form.city} onChange={set("city")} errors={addressErrors("city")} required />
            <Field label="Postal code" autoComplete="postal-code" value={form.postal_code} onChange={set("postal_code")} errors={addressErrors("postal_code")} required />
            <CountrySelect
              value={form.country}
              onChange={(country) => setForm((current) => ({ ...current, country, region: "" }))}
              errors={addressErrors("country")}
              required
            />
            <RegionSelect
              value={form.region}
              regions={regions.data}
              onChange={(region) => setForm((current) => ({ ...current, region }))}
              errors={addressErrors("region")}
            />
          </div>
        </fieldset>
        <ShippingChoice cart={data} form={form} regions={regions.data} onAddressErrors={setClientErrors} />
        <fieldset>
          <legend>Payment</legend>
          <SelectField label="Payment method" value={form.provider} onChange={set("provider")}>
            <option value="test">Card (test payments)</option>
            {manualAccepted && <option value="manual">Pay later (bank transfer)</option>}
          </SelectField>
          {form.provider === "test" && (
            <Field
              label="Card number"
              inputMode="numeric"
              autoComplete="cc-number"
              value={form.card_number}
              onChange={set("card_number")}
              errors={errors.card_number ?? errors["payment_method.card_number"]}
              hint="Test cards: 4242 4242 4242 4242 pays; 4000 0000 0000 0002 is declined; 4000 0027 6000 3184 asks for 3-D Secure."
            />
          )}
        </fieldset>
        <ErrorMessage error={checkout.error} />
        <button type="submit" disabled={checkout.isPending}>
          {checkoutButtonLabel(form.provider, checkout.isPending, formatMoney(money(data.totals.total)))}
        </button>
      </form>
    </>
  );
}
