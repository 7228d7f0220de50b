import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { startTransition, StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router-dom";
import { ApiError } from "../api/problems";
import "../shared/styles.css";
import { StorefrontApiProvider } from "./api";
import { StorefrontApp } from "./App";
import { seedQueries } from "./seed";

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 30_000,
      // Problems (4xx) are answers, not glitches: retry only what may pass next time.
      retry: (failures, error) => failures < 2 && !(error instanceof ApiError && error.status < 500 && error.status !== 429),
    },
  },
});

seedQueries(queryClient);

// The first render as a transition: React renders it in short slices and lets the
// browser breathe between them, instead of one long task that holds the main thread
// (what a phone's shopper feels as a page that does not answer a tap).
const root = createRoot(document.getElementById("root")!);
startTransition(() =>
  root.render(
    <StrictMode>
      <QueryClientProvider client={queryClient}>
        <StorefrontApiProvider>
          <BrowserRouter>
            <StorefrontApp />
          </BrowserRouter>
        </StorefrontApiProvider>
      </QueryClientProvider>
    </StrictMode>,
  ),
);
