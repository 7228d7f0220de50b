import { lazy, Suspense, useEffect } from "react";
import { Link, NavLink, Outlet, Route, Routes, useParams } from "react-router-dom";
import { ErrorMessage, Loading } from "../shared/ui";
import { useCart, useContentPage, useShop, useSignedIn, useTheme } from "./api";
import { Home } from "./pages/Home";
import { ProductPage } from "./pages/Product";
import { ApiError } from "../api/problems";

// Home and product pages are where shoppers land: in the first bundle. The rest
// load when first visited, so the first load carries only what a landing page needs.
const CartPage = lazy(() => import("./pages/Cart").then((module) => ({ default: module.CartPage })));
const CheckoutPage = lazy(() => import("./pages/Checkout").then((module) => ({ default: module.CheckoutPage })));
const OrderPage = lazy(() => import("./pages/Order").then((module) => ({ default: module.OrderPage })));
const OrderLookupPage = lazy(() => import("./pages/Order").then((module) => ({ default: module.OrderLookupPage })));
const AccountPage = lazy(() => import("./pages/Account").then((module) => ({ default: module.AccountPage })));
const ForgotPasswordPage = lazy(() => import("./pages/Account").then((module) => ({ default: module.ForgotPasswordPage })));
const ResetPasswordPage = lazy(() => import("./pages/Account").then((module) => ({ default: module.ResetPasswordPage })));
const SignInPage = lazy(() => import("./pages/Account").then((module) => ({ default: module.SignInPage })));
const SignUpPage = lazy(() => import("./pages/Account").then((module) => ({ default: module.SignUpPage })));
const ConfirmEmailChangePage = lazy(() =>
  import("./pages/AccountEmail").then((module) => ({ default: module.ConfirmEmailChangePage })),
);
const VerifyEmailPage = lazy(() => import("./pages/Account").then((module) => ({ default: module.VerifyEmailPage })));

function Layout() {
  const shop = useShop();
  const theme = useTheme();
  const cart = useCart();
  const signedIn = useSignedIn();
  const name = shop.data?.name ?? "";
  useEffect(() => {
    // The server titles the first page it sends; later pages title themselves below, or take the shop's name.
    if (name && !document.title) document.title = name;
  }, [name]);
  const count = cart.data?.item_count ?? 0;
  const logo = theme.data?.logo_url;
  return (
    <>
      <a className="skip-link" href="#content">
        Skip to content
      </a>
      <header className="site">
        {theme.data?.announcement && <p className="announcement">{theme.data.announcement}</p>}
        <Link to="/" className="brand">
          {logo ? <img src={logo} alt={name} width={150} height={60} /> : name || "\u00a0"}
        </Link>
        <nav aria-label="Shop">
          <ul>
            <li>
              <NavLink to="/" end>
                Products
              </NavLink>
            </li>
            <li>
              <NavLink to="/orders">Find an order</NavLink>
            </li>
            <li>
              <NavLink to={signedIn ? "/account" : "/account/signin"}>{signedIn ? "Account" : "Sign in"}</NavLink>
            </li>
            <li>
              <NavLink to="/cart">
                Cart <span className="badge" aria-label={`${count} item${count === 1 ? "" : "s"} in the cart`}>{count}</span>
              </NavLink>
            </li>
          </ul>
        </nav>
      </header>
      <main id="content" tabIndex={-1}>
        <ErrorMessage error={shop.error} onRetry={() => shop.refetch()} />
        <Suspense fallback={<Loading />}>
          <Outlet />
        </Suspense>
      </main>
      <footer className="site">
        {(theme.data?.pages.length ?? 0) > 0 && (
          <nav aria-label="About the shop">
            <ul>
              {theme.data?.pages.map((page) => (
                <li key={page.kind}>
                  <Link to={`/pages/${page.kind}`}>{page.title}</Link>
                </li>
              ))}
            </ul>
          </nav>
        )}
        <p>
          © {name} · Prices in {shop.data?.currency ?? "…"} · Powered by Storefleet
        </p>
      </footer>
    </>
  );
}

/** One of the shop's own pages (about, shipping, returns, ...): its words, paragraph by paragraph. */
export function ContentPageView() {
  const { kind = "" } = useParams();
  const page = useContentPage(kind);
  useEffect(() => {
    if (page.data) document.title = page.data.title;
  }, [page.data]);
  if (page.isPending) return <Loading />;
  if (page.isError) {
    if (page.error instanceof ApiError && page.error.status === 404) return <NotFound />;
    return <ErrorMessage error={page.error} onRetry={() => page.refetch()} />;
  }
  return (
    <article className="prose">
      <h1>{page.data.title}</h1>
      {page.data.body.split(/\n\s*\n/).map((paragraph, index) => (
        <p key={index} className="pre-line">
          {paragraph.trim()}
        </p>
      ))}
    </article>
  );
}

function NotFound() {
  return (
    <>
      <h1>Page not found</h1>
      <p>
        <Link to="/">Go to the products</Link>
      </p>
    </>
  );
}

export function StorefrontApp() {
  return (
    <Routes>
      <Route element={<Layout />}>
        <Route index element={<Home />} />
        <Route path="products/:slug" element={<ProductPage />} />
        <Route path="pages/:kind" element={<ContentPageView />} />
        <Route path="cart" element={<CartPage />} />
        <Route path="checkout" element={<CheckoutPage />} />
        <Route path="orders" element={<OrderLookupPage />} />
        <Route path="orders/:number" element={<OrderPage />} />
        <Route path="account" element={<AccountPage />} />
        <Route path="account/signin" element={<SignInPage />} />
        <Route path="account/signup" element={<SignUpPage />} />
        <Route path="account/verify" element={<VerifyEmailPage />} />
        <Route path="account/email" element={<ConfirmEmailChangePage />} />
        <Route path="account/forgot" element={<ForgotPasswordPage />} />
        <Route path="account/reset" element={<ResetPasswordPage />} />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}
