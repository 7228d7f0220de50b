import { useMutation, useQueryClient, type QueryKey } from "@tanstack/react-query";
import { useRef, useState, type ReactNode } from "react";
import { newIdempotencyKey } from "../../api/client";
import { useToast } from "./toast";

interface SecretCreateOptions<Input, Created> {
  /** The POST; `idempotencyKey` stays the same for retries of one attempt, so a double submit creates one. */
  create: (input: Input, idempotencyKey: string) => Promise<Created>;
  /** The secret the answer carries, shown once (an API key, a webhook's signing secret). */
  secretOf: (created: Created) => string;
  /** The list the new object joins. */
  invalidate: QueryKey;
  /** The toast after a create: "API key created." */
  createdMessage: string;
  onCreated?: (created: Created) => void;
}

/**
 * The create-then-show-secret shape of API keys and webhooks: create, refresh the
 * list, toast, and hold the secret until the merchant says they copied it.
 */
export function useSecretCreate<Input, Created>(options: SecretCreateOptions<Input, Created>) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const [secret, setSecret] = useState<string | null>(null);
  const idempotencyKey = useRef(newIdempotencyKey());
  const mutation = useMutation({
    mutationFn: (input: Input) => options.create(input, idempotencyKey.current),
    onSuccess: (created) => {
      idempotencyKey.current = newIdempotencyKey();
      setSecret(options.secretOf(created));
      void queryClient.invalidateQueries({ queryKey: options.invalidate });
      toast.success(options.createdMessage);
      options.onCreated?.(created);
    },
    onError: () => {
      idempotencyKey.current = newIdempotencyKey();
    },
  });
  return { ...mutation, secret, dismissSecret: () => setSecret(null) };
}

/** The secret, once, with a copy button. */
export function SecretNotice({ label, secret, onDone, children }: { label: string; secret: string; onDone: () => void; children: ReactNode }) {
  const toast = useToast();
  return (
    <div className="alert alert-ok" role="status">
      <p>{children}</p>
      <p className="secret" aria-label={label}>
        {secret}
      </p>
      <div className="actions">
        <button
          type="button"
          className="secondary"
          onClick={() =>
            navigator.clipboard?.writeText(secret).then(
              () => toast.success("Copied to the clipboard."),
              () => toast.error("Could not copy: select the text and copy it."),
            )
          }
        >
          Copy
        </button>
        <button type="button" className="secondary" onClick={onDone}>
          I have copied it
        </button>
      </div>
    </div>
  );
}
