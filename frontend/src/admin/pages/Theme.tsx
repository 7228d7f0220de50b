import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { unwrap } from "../../api/client";
import type { components } from "../../api/generated/shop";
import { ErrorMessage, Field, Loading, mergeErrors, Notice, SelectField } from "../../shared/ui";
import { queryKeys } from "../queryKeys";
import { useShopApi } from "../session";

type Theme = components["schemas"]["ThemeOutput"];
type PageKind = components["schemas"]["ContentPageOutput"]["kind"];

export const FONTS = [
  ["system", "System sans-serif"],
  ["humanist", "Humanist sans-serif"],
  ["geometric", "Geometric sans-serif"],
  ["serif", "Classic serif"],
  ["slab", "Slab serif"],
] as const;

export const PAGE_KINDS: ReadonlyArray<readonly [PageKind, string]> = [
  ["about", "About us"],
  ["shipping", "Shipping"],
  ["returns", "Returns"],
  ["privacy", "Privacy policy"],
  ["terms", "Terms of service"],
  ["contact", "Contact"],
];

/** The storefront's look and words: colours, font, logo, hero, announcement, content pages. */
export function ThemePage() {
  const { api, slug } = useShopApi();
  const theme = useQuery({
    queryKey: queryKeys.shop(slug).theme(),
    queryFn: () => unwrap(api.GET("/api/admin/v1/theme")),
  });
  if (theme.isPending) return <Loading />;
  if (theme.isError) return <ErrorMessage error={theme.error} onRetry={() => theme.refetch()} />;
  return (
    <>
      <h1>Storefront theme</h1>
      <ThemeForm theme={theme.data} />
      <ImagesSection theme={theme.data} />
      <PagesSection />
    </>
  );
}

function ThemeForm({ theme }: { theme: Theme }) {
  const { api, slug } = useShopApi();
  const queryClient = useQueryClient();
  const [form, setForm] = useState({
    brand_color: theme.brand_color,
    accent_color: theme.accent_color,
    font: theme.font,
    hero_title: theme.hero.title,
    hero_text: theme.hero.text,
    announcement: theme.announcement,
    payment_instructions: theme.payment_instructions,
  });
  const save = useMutation({
    mutationFn: () => unwrap(api.PATCH("/api/admin/v1/theme", { body: form })),
    onSuccess: (saved) => queryClient.setQueryData(queryKeys.shop(slug).theme(), saved),
  });
  const errors = mergeErrors({}, save.error);
  const set = (name: keyof typeof form) => (event: { target: { value: string } }) => {
    save.reset();
    setForm((current) => ({ ...current, [name]: event.target.value }));
  };
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  return (
    <form className="narrow" onSubmit={onSubmit} noValidate>
      <fieldset>
        <legend>Colours and font</legend>
        <Field label="Brand colour" type="color" value={form.brand_color} onChange={set("brand_color")} errors={errors.brand_color} hint="Buttons and links; white text must read on it." />
        <Field label="Accent colour" type="color" value={form.accent_color} onChange={set("accent_color")} errors={errors.accent_color} hint="The announcement bar and the hero." />
        <SelectField label="Font" value={form.font} onChange={set("font")} errors={errors.font}>
          {FONTS.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </SelectField>
      </fieldset>
      <fieldset>
        <legend>Front page</legend>
        <Field label="Hero headline" value={form.hero_title} maxLength={120} onChange={set("hero_title")} errors={errors.hero_title} />
        <div className="field">
          <label htmlFor="hero-text">Hero text</label>
          <textarea id="hero-text" rows={3} maxLength={500} value={form.hero_text} onChange={set("hero_text")} />
        </div>
        <Field label="Announcement bar" value={form.announcement} maxLength={200} onChange={set("announcement")} errors={errors.announcement} hint="One line above every page, e.g. free shipping; empty for none." />
      </fieldset>
      <fieldset>
        <legend>Paying later</legend>
        <div className="field">
          <label htmlFor="payment-instructions">Bank details and how to pay</label>
          <textarea id="payment-instructions" rows={4} maxLength={1000} value={form.payment_instructions} onChange={set("payment_instructions")} />
        </div>
      </fieldset>
      <ErrorMessage error={save.error} />
      {save.isSuccess && <Notice>Theme saved. The storefront shows it on the next page load.</Notice>}
      <button type="submit" disabled={save.isPending}>
        {save.isPending ? "Saving…" : "Save theme"}
      </button>
    </form>
  );
}

function ImagesSection({ theme }: { theme: Theme }) {
  const { api, slug } = useShopApi();
  const queryClient = useQueryClient();
  const upload = useMutation({
    mutationFn: ({ slot, file }: { slot: "logo" | "hero"; file: File | null }) =>
      file
        ? unwrap(
            api.PUT("/api/admin/v1/theme/images/{slot}", {
              params: { path: { slot } },
              // The image itself is the body, sent as the file's own type.
              body: file as unknown as string,
              bodySerializer: (body: unknown) => body as File,
              headers: { "Content-Type": file.type || "application/octet-stream" },
            }),
          )
        : unwrap(api.DELETE("/api/admin/v1/theme/images/{slot}", { params: { path: { slot } } })).then(() => null),
    onSuccess: (saved) => {
      if (saved) queryClient.setQueryData(queryKeys.shop(slug).theme(), saved);
      else queryClient.invalidateQueries({ queryKey: queryKeys.shop(slug).theme() });
    },
  });
  const hero = theme.hero.image[0];
  return (
    <section aria-labelledby="images-heading">
      <h2 id="images-heading">Logo and hero image</h2>
      <div className="form-grid">
        <div className="field">
          <span>Logo</span>
          {theme.logo_url ? <img src={theme.logo_url} alt="Current logo" style={{ maxHeight: 60, width: "auto" }} /> : <span className="muted">None yet: the shop's name shows.</span>}
          <label htmlFor="logo-file">Upload a logo (PNG, JPEG, WebP)</label>
          <input id="logo-file" type="file" accept="image/png,image/jpeg,image/webp,image/gif" onChange={(event) => upload.mutate({ slot: "logo", file: event.target.files?.[0] ?? null })} />
          {theme.logo_url && (
            <button type="button" className="secondary" onClick={() => upload.mutate({ slot: "logo", file: null })}>
              Remove logo
            </button>
          )}
        </div>
        <div className="field">
          <span>Hero image</span>
          {hero ? <img src={hero.url} alt="Current hero" style={{ maxHeight: 120, width: "auto" }} /> : <span className="muted">None yet.</span>}
          <label htmlFor="hero-file">Upload a hero image (wide, 1920 px or more)</label>
          <input id="hero-file" type="file" accept="image/png,image/jpeg,image/webp,image/gif" onChange={(event) => upload.mutate({ slot: "hero", file: event.target.files?.[0] ?? null })} />
          {hero && (
            <button type="button" className="secondary" onClick={() => upload.mutate({ slot: "hero", file: null })}>
              Remove hero image
            </button>
          )}
        </div>
      </div>
      {upload.isPending && <Loading label="Uploading…" />}
      <ErrorMessage error={upload.error} />
      {upload.isSuccess && <Notice>Image saved.</Notice>}
    </section>
  );
}

function PagesSection() {
  const { api, slug } = useShopApi();
  const queryClient = useQueryClient();
  const pages = useQuery({
    queryKey: queryKeys.shop(slug).contentPages(),
    queryFn: () => unwrap(api.GET("/api/admin/v1/pages")),
  });
  const [kind, setKind] = useState<PageKind>("about");
  const existing = pages.data?.find((page) => page.kind === kind);
  return (
    <section aria-labelledby="pages-heading">
      <h2 id="pages-heading">Pages</h2>
      <p className="muted">Written pages show in the storefront&rsquo;s footer.</p>
      <SelectField label="Page" value={kind} onChange={(event) => setKind(event.target.value as PageKind)}>
        {PAGE_KINDS.map(([value, label]) => (
          <option key={value} value={value}>
            {label}
            {pages.data?.some((page) => page.kind === value) ? " (published)" : ""}
          </option>
        ))}
      </SelectField>
      {pages.isPending ? (
        <Loading />
      ) : (
        <PageForm
          key={kind}
          kind={kind}
          initialTitle={existing?.title ?? PAGE_KINDS.find(([value]) => value === kind)?.[1] ?? ""}
          initialBody={existing?.body ?? ""}
          published={Boolean(existing)}
          onSaved={() => queryClient.invalidateQueries({ queryKey: queryKeys.shop(slug).contentPages() })}
          api={api}
        />
      )}
    </section>
  );
}

function PageForm({
  kind,
  initialTitle,
  initialBody,
  published,
  onSaved,
  api,
}: {
  kind: PageKind;
  initialTitle: string;
  initialBody: string;
  published: boolean;
  onSaved: () => void;
  api: ReturnType<typeof useShopApi>["api"];
}) {
  const [title, setTitle] = useState(initialTitle);
  const [body, setBody] = useState(initialBody);
  const save = useMutation({
    mutationFn: () => unwrap(api.PUT("/api/admin/v1/pages/{kind}", { params: { path: { kind } }, body: { title: title.trim(), body } })),
    onSuccess: onSaved,
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/admin/v1/pages/{kind}", { params: { path: { kind } } })),
    onSuccess: onSaved,
  });
  const errors = mergeErrors({}, save.error);
  return (
    <form
      className="narrow"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        save.mutate();
      }}
    >
      <Field label="Title" value={title} maxLength={120} onChange={(event) => setTitle(event.target.value)} errors={errors.title} />
      <div className="field">
        <label htmlFor="page-body">Text</label>
        <textarea id="page-body" rows={10} maxLength={20000} value={body} onChange={(event) => setBody(event.target.value)} aria-describedby="page-body-hint" />
        <small id="page-body-hint" className="hint">
          Plain text; an empty line starts a new paragraph.
        </small>
        {errors.body && <small className="field-error">{errors.body.join(" ")}</small>}
      </div>
      <ErrorMessage error={save.error ?? remove.error} />
      {save.isSuccess && <Notice>Page saved.</Notice>}
      <div className="actions">
        <button type="submit" disabled={save.isPending}>
          {save.isPending ? "Saving…" : published ? "Save page" : "Publish page"}
        </button>
        {published && (
          <button type="button" className="secondary" onClick={() => remove.mutate()} disabled={remove.isPending}>
            Unpublish
          </button>
        )}
      </div>
    </form>
  );
}
