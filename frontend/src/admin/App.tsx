import { useQueryClient } from "@tanstack/react-query";
import { Link, Navigate, NavLink, Outlet, Route, Routes, useLocation, useNavigate, useParams } from "react-router-dom";
import { shopOrigin } from "../api/client";
import { ErrorMessage, Loading } from "../shared/ui";
import { ApiKeysPage } from "./pages/ApiKeys";
import { LoginPage, SignupPage } from "./pages/Auth";
import { CustomerDetailPage, CustomersPage } from "./pages/Customers";
import { DashboardPage } from "./pages/Dashboard";
import { InventoryPage } from "./pages/Inventory";
import { OrderDetailPage, OrdersPage } from "./pages/Orders";
import { EditProductPage, NewProductPage, ProductsPage } from "./pages/Products";
import { DiscountsPage, ShippingPage, TaxesPage } from "./pages/Selling";
import { SettingsPage } from "./pages/Settings";
import { InvoicesPage, PlanUsagePage } from "./pages/Billing";
import { MembersPage } from "./pages/Members";
import { CreateShopPage, ShopsPage } from "./pages/Shops";
import { WebhookDetailPage, WebhooksPage } from "./pages/Webhooks";
import { useCurrentShop, useMe, useSession, useSignedIn } from "./session";

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
          {me.data && <li className="muted">{me.data.email}</li>}
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
      <main id="content" tabIndex={-1}>
        <Outlet />
      </main>
    </>
  );
}

const SHOP_NAV = [
  ["", "Overview"],
  ["products", "Products"],
  ["inventory", "Inventory"],
  ["orders", "Orders"],
  ["customers", "Customers"],
  ["api-keys", "API keys"],
  ["webhooks", "Webhooks"],
  ["members", "Members"],
  ["billing", "Plan and usage"],
  ["invoices", "Invoices"],
  ["shipping", "Shipping"],
  ["taxes", "Taxes"],
  ["discounts", "Discounts"],
  ["settings", "Settings"],
] as const;

function ShopLayout() {
  const me = useMe();
  const shop = useCurrentShop();
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
    <div className="layout-sidebar">
      <nav aria-label="Shop">
        <p>
          <strong>{shop.name}</strong>
          <br />
          <a href={shopOrigin(shop.domain)} target="_blank" rel="noreferrer">
            View storefront
          </a>
        </p>
        <ul style={{ listStyle: "none", padding: 0, lineHeight: 2 }}>
          {SHOP_NAV.map(([path, label]) => (
            <li key={path}>
              <NavLink to={path ? `/s/${shop.slug}/${path}` : `/s/${shop.slug}`} end={!path}>
                {label}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <div>
        <Outlet />
      </div>
    </div>
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
      <Route element={<RequireSignIn />}>
        <Route element={<AppLayout />}>
          <Route index element={<ShopsPage />} />
          <Route path="shops/new" element={<CreateShopPage />} />
          <Route path="s/:slug" element={<ShopLayout />}>
            <Route index element={<DashboardPage />} />
            <Route path="products" element={<ProductsPage />} />
            <Route path="products/new" element={<NewProductPage />} />
            <Route path="products/:productId" element={<EditProductPage />} />
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
