import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, Navigate, NavLink, Outlet, Route, Routes, useLocation, useNavigate, useParams } from "react-router-dom";
import { shopOrigin } from "../api/client";
import { ErrorMessage, Loading } from "../shared/ui";
import { AcceptInvitationPage, AccountPage, ConfirmEmailPage, ForgotPasswordPage, ResetPasswordPage } from "./pages/AccountLinks";
import { ApiKeysPage } from "./pages/ApiKeys";
import { AuditLogPage } from "./pages/AuditLog";
import { CategoriesPage } from "./pages/Categories";
import { CustomerDetailPage } from "./pages/CustomerDetail";
import { LoginPage, SignupPage } from "./pages/Auth";
import { CustomersPage } from "./pages/Customers";
import { DashboardPage } from "./pages/Dashboard";
import { DirectoryPage } from "./pages/Directory";
import { InventoryPage } from "./pages/Inventory";
import { OrderDetailPage, OrdersPage } from "./pages/Orders";
import { EditProductPage } from "./pages/products/EditProductPage";
import { NewProductPage } from "./pages/products/NewProductPage";
import { ProductsPage } from "./pages/products/ProductsPage";
import { DiscountsPage } from "./pages/selling/Discounts";
import { ShippingPage } from "./pages/selling/Shipping";
import { TaxesPage } from "./pages/selling/Taxes";
import { SettingsPage } from "./pages/Settings";
import { ThemePage } from "./pages/Theme";
import { InvoicesPage, PlanUsagePage } from "./pages/Billing";
import { MembersPage } from "./pages/Members";
import { CreateShopPage, ShopsPage } from "./pages/Shops";
import { WebhookDetailPage, WebhooksPage } from "./pages/Webhooks";
import { LiveBadge, LiveUpdates } from "./live";
import { SHOP_NAV } from "./nav";
import { useCurrentShop, useMe, useSession, useSignedIn } from "./session";
import { Icon } from "./ui/Icon";

function RequireSignIn() {
  const signedIn = useSignedIn();
  const location = useLocation();
  if (!signedIn) return <Navigate to="/login" replace state={{ from: location.pathname }} />;
  return <Outlet />;
}

function Header() {
  const me = useMe();
  const session = useSession();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const { slug } = useParams();
  return (
    <header className="site">
      <Link to="/" className="brand">
        Storefleet
      </Link>
      {me.data && me.data.memberships.length > 0 && (
        <div>
          <label htmlFor="shop-switcher" className="visually-hidden">
            Shop
          </label>
          <select
            id="shop-switcher"
            value={slug ?? ""}
            onChange={(e) => navigate(e.target.value ? `/s/${e.target.value}` : "/")}
          >
            <option value="">All shops</option>
            {me.data.memberships.map((m) => (
              <option key={m.shop} value={m.shop}>
                {m.shop_name}
              </option>
            ))}
          </select>
        </div>
      )}
      <nav aria-label="Account">
        <ul>
          {me.data && (
            <li>
              <Link to="/account" className="muted">
                {me.data.email}
              </Link>
            </li>
          )}
          <li>
            <button
              type="button"
              className="secondary"
              onClick={() => {
                void session.logOut();
                queryClient.clear();
                navigate("/login");
              }}
            >
              Sign out
            </button>
          </li>
        </ul>
      </nav>
    </header>
  );
}

function AppLayout() {
  return (
    <>
      <a className="skip-link" href="#content">
        Skip to content
      </a>
      <Header />
      <main id="content" className="admin-main" tabIndex={-1}>
        <Outlet />
      </main>
    </>
  );
}

function ShopLayout() {
  const me = useMe();
  const shop = useCurrentShop();
  // On a phone the menu folds away behind one button, so a page starts with its content.
  const [menuOpen, setMenuOpen] = useState(false);
  if (me.isPending) return <Loading />;
  if (me.isError) return <ErrorMessage error={me.error} onRetry={() => me.refetch()} />;
  if (!shop) {
    return (
      <>
        <h1>Shop not found</h1>
        <p>
          You are not a member of this shop. <Link to="/">Your shops</Link>
        </p>
      </>
    );
  }
  return (
    <LiveUpdates slug={shop.slug} domain={shop.domain}>
      <div className="admin-layout">
        <nav aria-label="Shop" className={`shop-nav${menuOpen ? " open" : ""}`}>
          <div className="shop-nav-head">
            <strong className="shop-name">{shop.name}</strong> <LiveBadge />
            <button
              type="button"
              className="secondary menu-toggle"
              aria-expanded={menuOpen}
              aria-controls="shop-nav-list"
              onClick={() => setMenuOpen(!menuOpen)}
            >
              <Icon name={menuOpen ? "close" : "menu"} /> Menu
            </button>
          </div>
          <ul id="shop-nav-list" className="plain">
            {SHOP_NAV.map(({ path, label, icon }) => (
              <li key={path}>
                <NavLink to={path ? `/s/${shop.slug}/${path}` : `/s/${shop.slug}`} end={!path} onClick={() => setMenuOpen(false)}>
                  <Icon name={icon} /> <span>{label}</span>
                </NavLink>
              </li>
            ))}
            <li>
              <a href={shopOrigin(shop.domain)} target="_blank" rel="noreferrer">
                <Icon name="external" /> <span>View storefront</span>
                <span className="visually-hidden"> (opens in a new tab)</span>
              </a>
            </li>
          </ul>
        </nav>
        <div className="admin-content">
          <Outlet />
        </div>
      </div>
    </LiveUpdates>
  );
}

function NotFound() {
  return (
    <>
      <h1>Page not found</h1>
      <Link to="/">Your shops</Link>
    </>
  );
}

export function AdminApp() {
  return (
    <Routes>
      <Route path="login" element={<LoginPage />} />
      <Route path="signup" element={<SignupPage />} />
      <Route path="forgot-password" element={<ForgotPasswordPage />} />
      <Route path="reset-password" element={<ResetPasswordPage />} />
      <Route path="confirm-email" element={<ConfirmEmailPage />} />
      <Route path="accept-invitation" element={<AcceptInvitationPage />} />
      {/* Anyone may look for shops: no sign-in. */}
      <Route path="directory" element={<DirectoryPage />} />
      <Route element={<RequireSignIn />}>
        <Route element={<AppLayout />}>
          <Route index element={<ShopsPage />} />
          <Route path="shops/new" element={<CreateShopPage />} />
          <Route path="account" element={<AccountPage />} />
          <Route path="s/:slug" element={<ShopLayout />}>
            <Route index element={<DashboardPage />} />
            <Route path="products" element={<ProductsPage />} />
            <Route path="products/new" element={<NewProductPage />} />
            <Route path="products/:productId" element={<EditProductPage />} />
            <Route path="categories" element={<CategoriesPage />} />
            <Route path="audit-log" element={<AuditLogPage />} />
            <Route path="inventory" element={<InventoryPage />} />
            <Route path="orders" element={<OrdersPage />} />
            <Route path="orders/:number" element={<OrderDetailPage />} />
            <Route path="customers" element={<CustomersPage />} />
            <Route path="customers/:customerId" element={<CustomerDetailPage />} />
            <Route path="api-keys" element={<ApiKeysPage />} />
            <Route path="webhooks" element={<WebhooksPage />} />
            <Route path="webhooks/:webhookId" element={<WebhookDetailPage />} />
            <Route path="members" element={<MembersPage />} />
            <Route path="billing" element={<PlanUsagePage />} />
            <Route path="invoices" element={<InvoicesPage />} />
            <Route path="theme" element={<ThemePage />} />
            <Route path="shipping" element={<ShippingPage />} />
            <Route path="taxes" element={<TaxesPage />} />
            <Route path="discounts" element={<DiscountsPage />} />
            <Route path="settings" element={<SettingsPage />} />
          </Route>
          <Route path="*" element={<NotFound />} />
        </Route>
      </Route>
    </Routes>
  );
}
