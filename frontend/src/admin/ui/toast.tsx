import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from "react";
import { describeError } from "../../api/problems";

export type ToastKind = "success" | "error";

interface Toast {
  id: number;
  kind: ToastKind;
  message: string;
}

export interface Toaster {
  /** A save went through: "Product saved." */
  success: (message: string) => void;
  /** A save failed: a message, or an error worded by describeError. */
  error: (error: unknown) => void;
}

const ToastContext = createContext<Toaster | null>(null);

// Long enough to read a sentence; errors stay until dismissed.
const SUCCESS_MS = 5000;

/**
 * One place where saves say they happened. Toasts sit in a live region that is
 * in the page from the start, so screen readers announce each one.
 */
export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const next = useRef(1);
  const dismiss = useCallback((id: number) => setToasts((all) => all.filter((t) => t.id !== id)), []);
  const push = useCallback(
    (kind: ToastKind, message: string) => {
      const id = next.current++;
      setToasts((all) => [...all.slice(-3), { id, kind, message }]);
      if (kind === "success") window.setTimeout(() => dismiss(id), SUCCESS_MS);
    },
    [dismiss],
  );
  const toaster = useMemo<Toaster>(
    () => ({
      success: (message) => push("success", message),
      error: (error) => push("error", typeof error === "string" ? error : describeError(error)),
    }),
    [push],
  );
  return (
    <ToastContext.Provider value={toaster}>
      {children}
      <section className="toasts" aria-label="Notifications">
        <div role="status" aria-live="polite">
          {toasts.map((toast) => (
            <div key={toast.id} className={`toast toast-${toast.kind}`}>
              <span>{toast.message}</span>
              <button type="button" className="toast-close" onClick={() => dismiss(toast.id)} aria-label="Dismiss notification">
                ×
              </button>
            </div>
          ))}
        </div>
      </section>
    </ToastContext.Provider>
  );
}

export function useToast(): Toaster {
  const toaster = useContext(ToastContext);
  if (!toaster) throw new Error("useToast outside ToastProvider");
  return toaster;
}
