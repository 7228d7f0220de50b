import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router-dom";
import { shopOrigin, unwrap } from "../api/client";
import { queryKeys } from "./queryKeys";
import { useShopApi } from "./session";
import { Icon } from "./ui/Icon";

/** What the checklist reads to tell a step is done. */
export interface ShopState {
  hasProduct: boolean | undefined;
  hasOrder: boolean | undefined;
}

export interface OnboardingStep {
  id: string;
  title: string;
  description: string;
  /** A route under the shop (relative), or an absolute URL (the storefront). */
  to: (origin: string) => string;
  /**
   * Whether it is done, read from the shop's data; null where the shop has no
   * such data yet (its settings page is still to come), so the merchant ticks it.
   */
  done: (state: ShopState) => boolean | undefined | null;
}

// The steps of a new shop. Shipping, taxes and the theme have no settings of
// their own yet: they link to the settings page and are ticked by hand until
// their pages land, when `to` and `done` should read them.
export const ONBOARDING_STEPS: OnboardingStep[] = [
  {
    id: "product",
    title: "Add a product",
    description: "With a price, stock and a photo.",
    to: () => "products/new",
    done: (s) => s.hasProduct,
  },
  {
    id: "shipping-taxes",
    title: "Set shipping and taxes",
    description: "Where you ship, what it costs, and the tax you charge.",
    to: () => "settings",
    done: () => null,
  },
  {
    id: "theme",
    title: "Customise the theme",
    description: "Your logo, colours and the words on your home page.",
    to: () => "settings",
    done: () => null,
  },
  {
    id: "test-order",
    title: "Place a test order",
    description: "Buy something on your storefront as a shopper would.",
    to: (origin) => origin,
    done: (s) => s.hasOrder,
  },
];

interface Saved {
  ticked: string[];
  hidden: boolean;
}

function storageKey(slug: string) {
  return `storefleet.onboarding.${slug}`;
}

function load(slug: string): Saved {
  try {
    const saved = JSON.parse(localStorage.getItem(storageKey(slug)) ?? "null") as Partial<Saved> | null;
    return { ticked: Array.isArray(saved?.ticked) ? saved.ticked : [], hidden: saved?.hidden === true };
  } catch {
    return { ticked: [], hidden: false };
  }
}

/** The checklist of a new shop on its overview, until every step is done or the merchant hides it. */
export function Onboarding() {
  const { api, slug, domain } = useShopApi();
  const [saved, setSaved] = useState<Saved>(() => load(slug));
  const keys = queryKeys.shop(slug);
  const products = useQuery({
    queryKey: keys.products({ limit: 1 }),
    queryFn: () => unwrap(api.GET("/api/admin/v1/products", { params: { query: { limit: 1 } } })),
  });
  const orders = useQuery({
    queryKey: keys.orders({ limit: 1 }),
    queryFn: () => unwrap(api.GET("/api/admin/v1/orders", { params: { query: { limit: 1 } } })),
  });
  const state: ShopState = {
    hasProduct: products.data ? products.data.results.length > 0 : undefined,
    hasOrder: orders.data ? orders.data.results.length > 0 : undefined,
  };
  const store = (next: Saved) => {
    setSaved(next);
    localStorage.setItem(storageKey(slug), JSON.stringify(next));
  };
  const steps = ONBOARDING_STEPS.map((step) => {
    const derived = step.done(state);
    return { step, derived, done: derived ?? saved.ticked.includes(step.id) };
  });
  const doneCount = steps.filter((s) => s.done).length;
  if (saved.hidden || doneCount === steps.length) return null;
  const origin = shopOrigin(domain);
  return (
    <section className="checklist" aria-labelledby="onboarding-heading">
      <div className="title-row">
        <h2 id="onboarding-heading">Set up your shop</h2>
        <button type="button" className="secondary" onClick={() => store({ ...saved, hidden: true })}>
          Hide checklist
        </button>
      </div>
      <label htmlFor="onboarding-progress">
        {doneCount} of {steps.length} done
      </label>
      <br />
      <progress id="onboarding-progress" max={steps.length} value={doneCount} />
      <ol>
        {steps.map(({ step, derived, done }) => {
          const target = step.to(origin);
          const external = /^https?:/.test(target);
          return (
            <li key={step.id} className={done ? "done" : undefined}>
              <span className="mark" aria-hidden="true">
                {done && <Icon name="check" size={14} />}
              </span>
              <div>
                {external ? (
                  <a href={target} target="_blank" rel="noreferrer" className="step-title">
                    {step.title}
                    <span className="visually-hidden"> (opens in a new tab)</span>
                  </a>
                ) : (
                  <Link to={target} className="step-title">
                    {step.title}
                  </Link>
                )}
                <span className="visually-hidden">{done ? " (done)" : " (to do)"}</span>
                <br />
                <small className="muted">{step.description}</small>
                {derived === null && (
                  <>
                    {" "}
                    <button
                      type="button"
                      className="secondary small"
                      onClick={() =>
                        store({ ...saved, ticked: done ? saved.ticked.filter((id) => id !== step.id) : [...saved.ticked, step.id] })
                      }
                    >
                      {done ? "Mark as not done" : "Mark as done"}
                    </button>
                  </>
                )}
              </div>
            </li>
          );
        })}
      </ol>
    </section>
  );
}
