import { useState } from "react";
import { unwrap } from "../../api/client";
import { Empty, ErrorMessage, Field, Loading, mergeErrors, type FieldErrors } from "../../shared/ui";
import { queryKeys } from "../queryKeys";
import { useCursorList, usePlatform } from "../session";

export interface DirectorySearch {
  near: string;
  radius_km: number;
  q: string;
  category: string;
}

const COORDINATE = /^-?\d{1,3}(\.\d{1,10})?$/;
const CATEGORY = /^[a-z0-9][a-z0-9-]{0,39}$/;

/** The search as the API takes it, or the fields to fix (the same rules the API applies). */
export function validateDirectorySearch(form: { latitude: string; longitude: string; radius: string; q: string; category: string }):
  | { search: DirectorySearch }
  | { errors: FieldErrors } {
  const errors: FieldErrors = {};
  const latitude = form.latitude.trim();
  const longitude = form.longitude.trim();
  const radius = form.radius.trim();
  const category = form.category.trim();
  if (!COORDINATE.test(latitude) || Math.abs(Number(latitude)) > 90) errors.latitude = ["Decimal degrees from -90 to 90."];
  if (!COORDINATE.test(longitude) || Math.abs(Number(longitude)) > 180) errors.longitude = ["Decimal degrees from -180 to 180."];
  if (!/^\d{1,4}(\.\d{1,3})?$/.test(radius) || Number(radius) <= 0 || Number(radius) > 2000) {
    errors.radius_km = ["Kilometres, above 0 and at most 2000."];
  }
  if (category && !CATEGORY.test(category)) errors.category = ["Lower-case letters, digits and hyphens."];
  if (form.q.trim().length > 100) errors.q = ["At most 100 characters."];
  if (Object.keys(errors).length) return { errors };
  return { search: { near: `${latitude},${longitude}`, radius_km: Number(radius), q: form.q.trim(), category } };
}

/** Shops near a point, for anyone (no sign-in): `directory/shops`. */
export function DirectoryPage() {
  const platform = usePlatform();
  const [latitude, setLatitude] = useState("");
  const [longitude, setLongitude] = useState("");
  const [radius, setRadius] = useState("25");
  const [q, setQ] = useState("");
  const [category, setCategory] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const [search, setSearch] = useState<DirectorySearch | null>(null);
  const [locating, setLocating] = useState<string | null>(null);
  const shops = useCursorList(queryKeys.directory(search), (cursor) =>
    search
      ? unwrap(
          platform.GET("/api/platform/v1/directory/shops", {
            params: { query: { ...search, q: search.q || undefined, category: search.category || undefined, cursor } },
          }),
        )
      : Promise.resolve({ results: [], next: null, previous: null }),
  );
  const locate = () => {
    if (!navigator.geolocation) {
      setLocating("This browser cannot tell its location; enter it instead.");
      return;
    }
    setLocating("Finding your location…");
    navigator.geolocation.getCurrentPosition(
      (position) => {
        setLatitude(position.coords.latitude.toFixed(6));
        setLongitude(position.coords.longitude.toFixed(6));
        setLocating(null);
      },
      () => setLocating("Your location is not available; enter it instead."),
      { timeout: 10000 },
    );
  };
  const all = mergeErrors(errors, shops.error);
  return (
    <>
      <h1>Shops near you</h1>
      <form
        className="narrow"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          const checked = validateDirectorySearch({ latitude, longitude, radius, q, category });
          if ("errors" in checked) {
            setErrors(checked.errors);
            return;
          }
          setErrors({});
          setSearch(checked.search);
        }}
      >
        <button type="button" className="secondary" onClick={locate}>
          Use my location
        </button>
        {locating && <p className="muted" role="status">{locating}</p>}
        <Field label="Latitude" inputMode="decimal" value={latitude} onChange={(e) => setLatitude(e.target.value)} errors={all.latitude ?? all.near} hint="e.g. 48.8566" />
        <Field label="Longitude" inputMode="decimal" value={longitude} onChange={(e) => setLongitude(e.target.value)} errors={all.longitude} hint="e.g. 2.3522" />
        <Field label="Within (km)" inputMode="decimal" value={radius} onChange={(e) => setRadius(e.target.value)} errors={all.radius_km} />
        <Field label="Words" type="search" value={q} onChange={(e) => setQ(e.target.value)} errors={all.q} hint="In the shop's name or description." />
        <Field label="Category" value={category} onChange={(e) => setCategory(e.target.value)} errors={all.category} hint="e.g. bakery" />
        <button type="submit">Search</button>
      </form>
      {search && (
        <>
          <h2>Nearest first</h2>
          {shops.isPending && <Loading />}
          <ErrorMessage error={shops.error} />
          {shops.isSuccess && shops.items.length === 0 && <Empty>No listed shops within {search.radius_km} km.</Empty>}
          <ul className="directory">
            {shops.items.map((shop) => (
              <li key={shop.slug}>
                <a href={`https://${shop.domain}/`}>{shop.name}</a>{" "}
                <span className="badge">{formatDistance(shop.distance_km)}</span>
                {shop.pickup && <span className="badge">pickup</span>}
                {shop.address && <div className="muted">{shop.address}</div>}
                {shop.description && <div>{shop.description}</div>}
                {shop.opening_hours && <div className="muted">{shop.opening_hours}</div>}
                {shop.categories.length > 0 && <div className="muted">{shop.categories.join(", ")}</div>}
              </li>
            ))}
          </ul>
          {shops.hasNextPage && (
            <button type="button" className="secondary" onClick={() => shops.fetchNextPage()}>
              More shops
            </button>
          )}
        </>
      )}
    </>
  );
}

export function formatDistance(km: number): string {
  return km < 1 ? `${Math.round(km * 1000)} m` : `${km.toFixed(km < 10 ? 1 : 0)} km`;
}
