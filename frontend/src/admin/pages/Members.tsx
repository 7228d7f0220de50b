import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { unwrap } from "../../api/client";
import { EMAIL_RE, Empty, ErrorMessage, Field, Loading, mergeErrors, SelectField, type FieldErrors } from "../../shared/ui";
import { queryKeys } from "../queryKeys";
import { useCursorList, usePlatform, useShopApi } from "../session";
import { LoadMore } from "../ui/LoadMore";
import { useToast } from "../ui/toast";
import { InvitationsSection } from "./Invitations";

const ROLES = ["staff", "admin", "owner"] as const;
type Role = (typeof ROLES)[number];

export function MembersPage() {
  const { slug } = useShopApi();
  const platform = usePlatform();
  const queryClient = useQueryClient();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("staff");
  const [errors, setErrors] = useState<FieldErrors>({});
  const members = useCursorList(queryKeys.shop(slug).members(), (cursor) =>
    unwrap(platform.GET("/api/platform/v1/shops/{slug}/members", { params: { path: { slug }, query: { cursor } } })),
  );
  const toast = useToast();
  const refresh = () => queryClient.invalidateQueries({ queryKey: queryKeys.shop(slug).members() });
  const add = useMutation({
    mutationFn: () =>
      unwrap(platform.POST("/api/platform/v1/shops/{slug}/members", { params: { path: { slug } }, body: { email: email.trim(), role } })),
    onSuccess: () => {
      toast.success(`${email.trim()} added as ${role}.`);
      setEmail("");
      void refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (id: number) =>
      unwrap(platform.DELETE("/api/platform/v1/shops/{slug}/members/{member_id}", { params: { path: { slug, member_id: id } } })),
    onSuccess: () => {
      toast.success("Member removed.");
      void refresh();
    },
    onError: (error) => toast.error(error),
  });
  const all = mergeErrors(errors, add.error);
  return (
    <>
      <h1>Members</h1>
      <form
        className="narrow"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          const found: FieldErrors = EMAIL_RE.test(email.trim()) ? {} : { email: ["The e-mail of a Storefleet user."] };
          setErrors(found);
          if (!Object.keys(found).length) add.mutate();
        }}
      >
        <Field label="E-mail" type="email" value={email} onChange={(e) => setEmail(e.target.value)} errors={all.email} hint="They sign up first; then add them here." />
        <SelectField label="Role" value={role} onChange={(e) => setRole(e.target.value as Role)} errors={all.role}>
          {ROLES.map((r) => (
            <option key={r}>{r}</option>
          ))}
        </SelectField>
        <ErrorMessage error={add.error} fieldsShown={["email", "role"]} />
        <button type="submit" disabled={add.isPending}>
          Add member
        </button>
      </form>
      <h2>Who has access</h2>
      {members.isPending && <Loading />}
      <ErrorMessage error={members.error} onRetry={() => members.refetch()} />
      {members.isSuccess && members.items.length === 0 && <Empty>No members.</Empty>}
      <ul>
        {members.items.map((m) => (
          <li key={m.id}>
            {m.name || m.email} <span className="muted">{m.email}</span> <span className="badge">{m.role}</span>{" "}
            <button type="button" className="secondary" onClick={() => remove.mutate(m.id)} aria-label={`Remove ${m.email}`}>
              Remove
            </button>
          </li>
        ))}
      </ul>
      <LoadMore list={members} />
      <InvitationsSection />
    </>
  );
}
