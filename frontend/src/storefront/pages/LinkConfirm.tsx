// A page an e-mailed single-use link opens: it sends the link's token once and says
// what came of it (e-mail verification, e-mail change).
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, type ReactNode } from "react";
import { useSearchParams } from "react-router-dom";
import { ErrorMessage, Loading, Notice } from "../../shared/ui";

export function LinkConfirm<T>({
  title,
  confirm,
  done,
  failedHint,
}: {
  title: string;
  confirm: (token: string) => Promise<T>;
  done: (data: T) => ReactNode;
  failedHint: string;
}) {
  const queryClient = useQueryClient();
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const mutation = useMutation({
    mutationFn: () => confirm(token),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["customer"] }),
  });
  // Once per page (StrictMode mounts twice; a link works once).
  const sent = useRef(false);
  useEffect(() => {
    if (token && !sent.current) {
      sent.current = true;
      mutation.mutate();
    }
  }, [token, mutation]);
  return (
    <>
      <h1>{title}</h1>
      {!token && <ErrorMessage error={new Error("This link lacks its token; open the link from the e-mail again.")} />}
      {mutation.isPending && <Loading label="Confirming…" />}
      {mutation.isSuccess && <Notice>{done(mutation.data)}</Notice>}
      {mutation.isError && (
        <>
          <ErrorMessage error={mutation.error} />
          <p>{failedHint}</p>
        </>
      )}
    </>
  );
}
