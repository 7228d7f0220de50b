import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { unwrap } from "../../api/client";
import { EMAIL_RE, Empty, ErrorMessage, Field, Loading, mergeErrors, Notice, SelectField, type FieldErrors } from "../../shared/ui";
import { queryKeys } from "../queryKeys";
import { useCursorList, usePlatform, useShopApi } from "../session";

const ROLES = ["staff", "admin", "owner"] as const;
type Role = (typeof ROLES)[number];

/** Invite people by e-mail (with or without an account), and follow, resend or revoke the invitations. */
export function InvitationsSection() {
  const { slug, role: myRole } = useShopApi();
  const platform = usePlatform();
  const queryClient = useQueryClient();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("staff");
  const [errors, setErrors] = useState<FieldErrors>({});
  const manager = myRole === "owner" || myRole === "admin";
  const invitations = useCursorList(queryKeys.shop(slug).invitations(), (cursor) =>
    unwrap(platform.GET("/api/platform/v1/shops/{slug}/invitations", { params: { path: { slug }, query: { cursor } } })),
  );
  const refresh = () => queryClient.invalidateQueries({ queryKey: queryKeys.shop(slug).invitations() });
  const invite = useMutation({
    mutationFn: () =>
      unwrap(platform.POST("/api/platform/v1/shops/{slug}/invitations", { params: { path: { slug } }, body: { email: email.trim(), role } })),
    onSuccess: () => {
      setEmail("");
      refresh();
    },
  });
  const resend = useMutation({
    mutationFn: (id: number) =>
      unwrap(platform.POST("/api/platform/v1/shops/{slug}/invitations/{invitation_id}/resend", { params: { path: { slug, invitation_id: id } } })),
    onSuccess: refresh,
  });
  const revoke = useMutation({
    mutationFn: (id: number) =>
      unwrap(platform.DELETE("/api/platform/v1/shops/{slug}/invitations/{invitation_id}", { params: { path: { slug, invitation_id: id } } })),
    onSuccess: refresh,
  });
  if (!manager) return null;
  const all = mergeErrors(errors, invite.error);
  return (
    <section aria-labelledby="invitations-heading">
      <h2 id="invitations-heading">Invite by e-mail</h2>
      <form
        className="narrow"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          const found: FieldErrors = EMAIL_RE.test(email.trim()) ? {} : { email: ["Enter their e-mail address."] };
          setErrors(found);
          if (!Object.keys(found).length) invite.mutate();
        }}
      >
        <Field
          label="Their e-mail"
          type="email"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          errors={all.email}
          hint="They get a link to join; without a Storefleet account they create one there."
        />
        <SelectField label="Invite as" value={role} onChange={(e) => setRole(e.target.value as Role)} errors={all.role}>
          {ROLES.map((r) => (
            <option key={r}>{r}</option>
          ))}
        </SelectField>
        <ErrorMessage error={invite.error} />
        {invite.isSuccess && <Notice>Invitation sent to {invite.data.email}.</Notice>}
        <button type="submit" disabled={invite.isPending}>
          Send invitation
        </button>
      </form>
      <h3>Invitations</h3>
      {invitations.isPending && <Loading />}
      <ErrorMessage error={invitations.error ?? resend.error ?? revoke.error} />
      {invitations.isSuccess && invitations.items.length === 0 && <Empty>No invitations yet.</Empty>}
      <ul>
        {invitations.items.map((invitation) => (
          <li key={invitation.id}>
            {invitation.email} <span className="badge">{invitation.role}</span> <span className="badge">{invitation.status}</span>{" "}
            <span className="muted">
              {invitation.status === "pending" && `until ${new Date(invitation.expires_at).toLocaleString()}`}
              {invitation.status === "expired" && `expired ${new Date(invitation.expires_at).toLocaleString()}`}
            </span>{" "}
            {(invitation.status === "pending" || invitation.status === "expired") && (
              <>
                <button type="button" className="secondary" onClick={() => resend.mutate(invitation.id)} aria-label={`Resend the invitation to ${invitation.email}`}>
                  Resend
                </button>
                <button type="button" className="secondary" onClick={() => revoke.mutate(invitation.id)} aria-label={`Revoke the invitation to ${invitation.email}`}>
                  Revoke
                </button>
              </>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
