import { useEffect } from "react";
import { Link, NavLink, Outlet, Route, Routes } from "react-router-dom";
import { ErrorMessage } from "../shared/ui";
import { useCart, useShop, useSignedIn } from "./api";
import { AccountPage, ForgotPasswordPage, ResetPasswordPage, SignInPage, SignUpPage, VerifyEmailPage } from "./pages/Account";
import { CartPage } from "./pages/Cart";
import { CheckoutPage } from "./pages/Checkout";
import { Home } from "./pages/Home";
import { OrderLookupPage, OrderPage } from "./pages/Order";
import { ProductPage } from "./pages/Product";

function Layout() {
  const shop = useShop();
  const cart = useCart();
  const signedIn = useSignedIn();
  const name = shop.data?.name ?? "";
  useEffect(() => {
    if (name) document.title = name;
  }, [name]);
  const count = cart.data?.item_count ?? 0;
  return (
    <>
      <a className="skip-link" href="#content">
        Skip to content
      </a>
      <header className="site">
        <Link to="/" className="brand">
          {name || "\u00a0"}
        </Link>
        <nav aria-label="Shop">
          <ul>
            <li>
              <NavLink to="/">Products</NavLink>
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
        <Outlet />
      </main>
      <footer className="site">Prices in {shop.data?.currency ?? "…"} · Powered by Storefleet</footer>
    </>
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
        <Route path="cart" element={<CartPage />} />
        <Route path="checkout" element={<CheckoutPage />} />
        <Route path="orders" element={<OrderLookupPage />} />
        <Route path="orders/:number" element={<OrderPage />} />
        <Route path="account" element={<AccountPage />} />
        <Route path="account/signin" element={<SignInPage />} />
        <Route path="account/signup" element={<SignUpPage />} />
        <Route path="account/verify" element={<VerifyEmailPage />} />
        <Route path="account/forgot" element={<ForgotPasswordPage />} />
        <Route path="account/reset" element={<ResetPasswordPage />} />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}
