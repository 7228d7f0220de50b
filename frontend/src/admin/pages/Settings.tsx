import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { unwrap } from "../../api/client";
import { formatMoney, money } from "../../api/money";
import { ErrorMessage, Field, Loading, mergeErrors, type FieldErrors } from "../../shared/ui";
import { queryKeys } from "../queryKeys";
import { usePlatform, useShopApi } from "../session";
import { useToast } from "../ui/toast";

export const MANUAL_EXPIRY_HOURS_MAX = 720;

/** Client-side check of the payment settings form: whole hours, 1 to 30 days. */
export function validateExpiryHours(hours: string): FieldErrors {
  const value = Number(hours.trim());
  if (!/^\d+$/.test(hours.trim()) || value < 1 || value > MANUAL_EXPIRY_HOURS_MAX) {
    return { manual_expiry_hours: [`Whole hours from 1 to ${MANUAL_EXPIRY_HOURS_MAX}.`] };
  }
  return {};
}

export function SettingsPage() {
  const { slug } = useShopApi();
  const platform = usePlatform();
  const shop = useQuery({
    queryKey: queryKeys.shop(slug).shop(),
    queryFn: () => unwrap(platform.GET("/api/platform/v1/shops/{slug}", { params: { path: { slug } } })),
  });
  if (shop.isPending) return <Loading />;
  if (shop.isError) return <ErrorMessage error={shop.error} onRetry={() => shop.refetch()} />;
  return (
    <>
      <SettingsForm key={shop.data.name} slug={slug} name={shop.data.name} currency={shop.data.currency} domain={shop.data.domain} />
      <PaymentSection />
      <PlanSection current={shop.data.plan} />
      <DomainsSection slug={slug} />
      <ExportSection slug={slug} />
    </>
  );
}

function SettingsForm({ slug, name: initial, currency, domain }: { slug: string; name: string; currency: string; domain: string }) {
  const platform = usePlatform();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [name, setName] = useState(initial);
  const [errors, setErrors] = useState<FieldErrors>({});
  const save = useMutation({
    mutationFn: () => unwrap(platform.PATCH("/api/platform/v1/shops/{slug}", { params: { path: { slug } }, body: { name: name.trim() } })),
    onSuccess: (shop) => {
      toast.success("Shop settings saved.");
      queryClient.setQueryData(queryKeys.shop(slug).shop(), shop);
      void queryClient.invalidateQueries({ queryKey: queryKeys.me() });
    },
  });
  const all = mergeErrors(errors, save.error);
  return (
    <>
      <h1>Settings</h1>
      <p>
        Storefront host: <code>{domain}</code> · currency {currency}
      </p>
      <form
        className="narrow"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          const found: FieldErrors = name.trim() ? {} : { name: ["The shop needs a name."] };
          setErrors(found);
          if (!Object.keys(found).length) save.mutate();
        }}
      >
        <Field label="Shop name" value={name} onChange={(e) => setName(e.target.value)} errors={all.name} />
        <ErrorMessage error={save.error} fieldsShown={["name"]} />
        <button type="submit" disabled={save.isPending}>
          Save
        </button>
      </form>
    </>
  );
}

/** Payment settings (shop Admin API): manual payment is off until turned on here. */
export function PaymentSection() {
  const { api, slug } = useShopApi();
  const current = useQuery({
    queryKey: queryKeys.shop(slug).paymentSettings(),
    queryFn: () => unwrap(api.GET("/api/admin/v1/payment-settings")),
  });
  return (
    <section aria-labelledby="payments-heading">
      <h2 id="payments-heading">Payments</h2>
      {current.isPending && <Loading />}
      <ErrorMessage error={current.error} onRetry={() => current.refetch()} />
      {current.data && (
        <PaymentForm
          key={`${current.data.manual_enabled}-${current.data.manual_expiry_hours}-${current.data.card_capture}`}
          enabled={current.data.manual_enabled}
          hours={current.data.manual_expiry_hours}
          captureByHand={current.data.card_capture === "manual"}
          cardMinutes={current.data.card_authorization_expiry_minutes}
        />
      )}
    </section>
  );
}

function PaymentForm({
  enabled: initialEnabled,
  hours: initialHours,
  captureByHand: initialCaptureByHand,
  cardMinutes,
}: {
  enabled: boolean;
  hours: number;
  captureByHand: boolean;
  cardMinutes: number;
}) {
  const { api, slug } = useShopApi();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [enabled, setEnabled] = useState(initialEnabled);
  const [hours, setHours] = useState(String(initialHours));
  const [captureByHand, setCaptureByHand] = useState(initialCaptureByHand);
  const [errors, setErrors] = useState<FieldErrors>({});
  const save = useMutation({
    mutationFn: () =>
      unwrap(api.PATCH("/api/admin/v1/payment-settings", {
          body: { manual_enabled: enabled, manual_expiry_hours: Number(hours.trim()), card_capture: captureByHand ? "manual" : "automatic" },
        })),
    onSuccess: (saved) => {
      toast.success("Payment settings saved.");
      queryClient.setQueryData(queryKeys.shop(slug).paymentSettings(), saved);
    },
  });
  const all = mergeErrors(errors, save.error);
  return (
    <form
      className="narrow"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        const found = validateExpiryHours(hours);
        setErrors(found);
        if (!Object.keys(found).length) save.mutate();
      }}
    >
      <label className="checkbox">
        <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
        Accept manual payment (bank transfer, cash on delivery)
      </label>
      <Field
        label="Unpaid manual orders expire after (hours)"
        inputMode="numeric"
        value={hours}
        onChange={(e) => setHours(e.target.value)}
        errors={all.manual_expiry_hours}
        hint={`Until then an unpaid order holds its stock; then it is cancelled and the stock returns. Unfinished card payments expire after ${cardMinutes} minutes.`}
      />
      <label className="checkbox">
        <input type="checkbox" checked={captureByHand} onChange={(e) => setCaptureByHand(e.target.checked)} />
        Capture card payments by hand (checkout only authorizes the card; capture or void each order from its page)
      </label>
      <ErrorMessage error={save.error} fieldsShown={["manual_expiry_hours"]} />
      <button type="submit" disabled={save.isPending}>
        Save payments
      </button>
    </form>
  );
}

/** Custom domains of the shop (besides its {slug} subdomain). */
export function DomainsSection({ slug }: { slug: string }) {
  const platform = usePlatform();
  const queryClient = useQueryClient();
  const [domain, setDomain] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const domains = useQuery({
    queryKey: queryKeys.shop(slug).domains(),
    queryFn: () => unwrap(platform.GET("/api/platform/v1/shops/{slug}/domains", { params: { path: { slug } } })),
  });
  const toast = useToast();
  const refresh = () => queryClient.invalidateQueries({ queryKey: queryKeys.shop(slug).domains() });
  const add = useMutation({
    mutationFn: () =>
      unwrap(
        platform.POST("/api/platform/v1/shops/{slug}/domains", {
          params: { path: { slug } },
          body: { domain: domain.trim().toLowerCase() },
        }),
      ),
    onSuccess: () => {
      toast.success(`${domain.trim().toLowerCase()} added.`);
      setDomain("");
      void refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (id: number) =>
      unwrap(platform.DELETE("/api/platform/v1/shops/{slug}/domains/{domain_id}", { params: { path: { slug, domain_id: id } } })),
    onSuccess: () => {
      toast.success("Domain removed.");
      void refresh();
    },
    onError: (error) => toast.error(error),
  });
  const all = mergeErrors(errors, add.error);
  return (
    <section aria-labelledby="domains-heading">
      <h2 id="domains-heading">Domains</h2>
      {domains.isPending && <Loading />}
      <ErrorMessage error={domains.error} onRetry={() => domains.refetch()} />
      <ul>
        {domains.data?.results.map((d) => (
          <li key={d.id}>
            <code>{d.domain}</code> {d.is_primary && <span className="badge">primary</span>}{" "}
            {!d.is_primary && (
              <button type="button" className="secondary" onClick={() => remove.mutate(d.id)} aria-label={`Remove ${d.domain}`}>
                Remove
              </button>
            )}
          </li>
        ))}
      </ul>
      <form
        className="narrow"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          const ok = /^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i.test(domain.trim());
          setErrors(ok ? {} : { domain: ["A host name like shop.example.com."] });
          if (ok) add.mutate();
        }}
      >
        <Field label="Add a custom domain" value={domain} onChange={(e) => setDomain(e.target.value)} errors={all.domain} hint="Point its DNS at Storefleet first." />
        <ErrorMessage error={add.error} fieldsShown={["domain"]} />
        <button type="submit" disabled={add.isPending}>
          Add domain
        </button>
      </form>
    </section>
  );
}

type ExportStatus = "pending" | "running" | "done" | "failed";
const isFinished = (status: ExportStatus) => status === "done" || status === "failed";

function limitText(name: string, value: number | null | undefined): string {
  const label = name.replace(/^max_/, "").replaceAll("_", " ");
  if (value === null || value === undefined) return `${label}: unlimited`;
  if (name.endsWith("_bytes")) return `${label.replace(" bytes", "")}: ${(value / 1024 ** 3).toFixed(value >= 1024 ** 3 ? 0 : 1)} GB`;
  return `${label}: ${value.toLocaleString()}`;
}

/** Export of the whole shop (JSON Lines) by a worker: start it, follow it, download it. */
export function ExportSection({ slug }: { slug: string }) {
  const platform = usePlatform();
  const toast = useToast();
  const [exportId, setExportId] = useState<string | null>(null);
  const start = useMutation({
    mutationFn: () => unwrap(platform.POST("/api/platform/v1/shops/{slug}/export", { params: { path: { slug } } })),
    onSuccess: (started) => {
      toast.success("Export started: it shows here when it is ready.");
      setExportId(started.id);
    },
  });
  const progress = useQuery({
    queryKey: queryKeys.shop(slug).export(exportId),
    enabled: exportId !== null,
    queryFn: () =>
      unwrap(platform.GET("/api/platform/v1/shops/{slug}/exports/{export_id}", { params: { path: { slug, export_id: exportId! } } })),
    refetchInterval: (query) => (query.state.data && isFinished(query.state.data.status) ? false : 1500),
  });
  const data = progress.data;
  return (
    <section aria-labelledby="export-heading">
      <h2 id="export-heading">Export</h2>
      <p>All of the shop&rsquo;s data as JSON Lines, written by a worker.</p>
      <button type="button" className="secondary" onClick={() => start.mutate()} disabled={start.isPending || (data !== undefined && !isFinished(data.status))}>
        Export the shop
      </button>
      <ErrorMessage error={start.error ?? progress.error} />
      {data && (
        <div role="status" aria-live="polite">
          <label htmlFor="export-progress">
            Export {data.status} ({data.tables_done}/{data.tables_total} tables, {data.rows_written} rows)
          </label>
          <progress id="export-progress" max={100} value={data.progress} />
          {data.download_url && (
            <p>
              <a href={data.download_url}>Download the export</a>
            </p>
          )}
          {data.error && <p className="field-error">{data.error}</p>}
        </div>
      )}
    </section>
  );
}

/** The shop's plan and what each plan costs and allows (changing plans comes with billing). */
export function PlanSection({ current }: { current?: string }) {
  const platform = usePlatform();
  const plans = useQuery({
    queryKey: queryKeys.plans(),
    queryFn: () => unwrap(platform.GET("/api/platform/v1/plans")),
    staleTime: 10 * 60_000,
  });
  return (
    <section aria-labelledby="plan-heading">
      <h2 id="plan-heading">Plan</h2>
      {plans.isPending && <Loading />}
      <ErrorMessage error={plans.error} />
      {plans.data && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Plan</th>
                <th scope="col" className="num">Price a month</th>
                <th scope="col">Limits</th>
              </tr>
            </thead>
            <tbody>
              {plans.data.results.map((plan) => (
                <tr key={plan.code} aria-current={plan.code === current ? "true" : undefined}>
                  <td>
                    {plan.name} {plan.code === current && <span className="badge ok">current</span>}
                  </td>
                  <td className="num">{formatMoney(money(plan.price))}</td>
                  <td>
                    {Object.entries(plan.limits)
                      .map(([name, value]) => limitText(name, value as number | null))
                      .join(" · ")}
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
