import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router-dom";
import { Session } from "../api/client";
import { ApiError } from "../api/problems";
import "../shared/styles.css";
import "./admin.css";
import { AdminApp } from "./App";
import { SessionProvider } from "./session";
import { ToastProvider } from "./ui/toast";

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 10_000,
      retry: (failures, error) => failures < 2 && !(error instanceof ApiError && error.status < 500 && error.status !== 429),
    },
  },
});

// The platform API lives on the host that serves this page.
const session = new Session(window.location.origin);

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <SessionProvider session={session}>
        <BrowserRouter basename="/app">
          <ToastProvider>
            <AdminApp />
          </ToastProvider>
        </BrowserRouter>
      </SessionProvider>
    </QueryClientProvider>
  </StrictMode>,
);
