/** Who did something: a dashboard user, or an operator at the command line. */
export type Actor = { readonly kind: 'user'; readonly userId: string } | { readonly kind: 'cli' };

export const CLI_ACTOR: Actor = { kind: 'cli' };

export type AuditAction =
  | 'key.created'
  | 'key.updated'
  | 'key.rotated'
  | 'key.revoked'
  | 'member.added'
  | 'member.role_changed'
  | 'member.removed'
  | 'invite.created'
  | 'invite.revoked'
  | 'invite.accepted';

export type AuditDetail = string | number | boolean | null | readonly string[];

export interface AuditEvent {
  readonly accountId: string;
  readonly actor: Actor;
  readonly action: AuditAction;
  readonly target: {
    readonly type: 'key' | 'member' | 'invite';
    readonly id: string;
    readonly name?: string;
  };
  readonly details?: Readonly<Record<string, AuditDetail>>;
}

export interface AuditEntry extends AuditEvent {
  readonly id: string;
  readonly at: number;
  /** The acting user's email, when the actor is a user that still exists. */
  readonly actorEmail: string | null;
}

export interface AuditLog {
  record(event: AuditEvent): Promise<void>;
  /** Newest first. */
  list(accountId: string, limit: number): Promise<AuditEntry[]>;
}
