//! Who may change a user's second factors: one table of every action on MFA state and
//! what it requires, and the one check of it.
//!
//! Every change of a user's record runs [`check`] against the record just read, inside
//! the conditional write that makes the change (`update.rs`), so the decision is taken on
//! the state the write replaces and no handler decides on its own. Organization-wide actions,
//! which change no user record, ask [`admin`] with the administrator's own record.
//!
//! The rule: while the user has any method enabled, every action that adds, re-enables,
//! replaces, weakens or removes a factor, regenerates backup codes or resets MFA needs a
//! full-access token of a live session whose second factor is at most 15 minutes old. A
//! setup records the session whose fresh second factor began it, and its completion
//! honours that record only while the session lives and for 15 minutes: a setup begun by
//! a password-only caller, begun in a session that has ended since, or begun too long
//! ago cannot complete with the password alone. A full-access token of an ended session
//! authorizes nothing (`auth::ensure_live`).

use crate::auth::Principal;
use crate::model::{MfaType, OrgPolicy, StepUp, UserMfaRecord};
use crate::refusal::Refusal;

/// How recent the second factor of a full-access token must be for a step-up action.
pub const STEP_UP_MAX_AGE: i64 = 15 * 60;

/// Everything that reads or changes a user's MFA state, or an organization's policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Reading one's own MFA state (status, factors, devices): changes nothing.
    Read,
    /// Checking a second factor: login, recovery, opening a passkey ceremony, mailing a
    /// login link. Counts failures; changes no factor.
    Verify,
    /// Choosing which enabled method a login asks for first.
    ChoosePrimary,
    /// Beginning the setup of any method (a new factor, or a replacement).
    StartSetup,
    /// Finishing a setup: the code, link or passkey that proves it works.
    CompleteSetup,
    /// Switching a configured method back on.
    Enable,
    /// Switching a method off.
    Disable,
    /// Ten new backup codes, the old ones void.
    RegenerateBackupCodes,
    /// Renaming one factor.
    RenameFactor,
    /// Removing one factor.
    RemoveFactor,
    /// Removing every factor of one's own account.
    ResetSelf,
    /// An administrator removing every factor of a member.
    ResetMember,
    /// Requiring MFA of every member of the organization.
    Enforce,
    /// No longer requiring it.
    LiftEnforcement,
    /// Narrowing (or widening) the methods members may set up.
    ChooseAllowedMethods,
    /// Forgetting one's remembered devices (one or all): it weakens nothing.
    ForgetDevices,
    /// An administrator reading a member's audit events.
    ReadMemberEvents,
    /// Reading one's own audit events (where and when one signed in).
    ReadOwnEvents,
}

/// What an action needs of its caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requirement {
    /// A valid token (platform or full-access) of the user.
    Token,
    /// While the user has any method enabled: a full-access token of a live session (of
    /// any age, a remembered device's too); never the password alone.
    Session,
    /// While the user has any method enabled: the user's full-access token, second factor
    /// at most 15 minutes old.
    FreshFactor,
    /// While the user has any method enabled: that token, or a proof of a factor presented
    /// in the request itself (a code, an assertion or a recovery code: Frontegg's disable
    /// routes), which the change's own write checks, spends and counts like a login's.
    FreshFactorOrProof,
    /// While the user has any method enabled: the setup began with a fresh second factor
    /// of a session that is still live, at most 15 minutes ago (as recorded with it), or
    /// the completing token has one now. With nothing pending there is nothing to
    /// authorize: the completion itself refuses (`UserMfaRecord::complete_setup`).
    AuthorizedSetup,
    /// `OWNER` or `ADMINISTRATOR` of the organization (of the member, for actions on one).
    AdminRole,
    /// That role, and while the administrator has MFA, their own full-access token of a
    /// live session (never their password alone).
    AdminSession,
    /// That role, and the administrator's own full-access token with a second factor at
    /// most 15 minutes old (an administrator without MFA must set it up first).
    AdminFreshFactor,
}

impl Requirement {
    /// The requirement in a sentence (the policy table of docs/security-model.md).
    pub fn describe(self) -> &'static str {
        match self {
            Requirement::Token => "any valid token of the user",
            Requirement::Session => "while the user has MFA: the user's full-access token of a live session",
            Requirement::FreshFactor => {
                "while the user has MFA: the user's full-access token of a live session, second factor at most 15 minutes old"
            }
            Requirement::FreshFactorOrProof => {
                "while the user has MFA: as above, or a proof of a factor in the request itself (a code, an assertion or a recovery code), spent and counted like a login's"
            }
            Requirement::AuthorizedSetup => {
                "while the user has MFA: the setup began with such a token at most 15 minutes ago in a session still live (recorded with it), or the completing token is one"
            }
            Requirement::AdminRole => "`OWNER` or `ADMINISTRATOR` of the organization",
            Requirement::AdminSession => {
                "`OWNER` or `ADMINISTRATOR` of the organization; while they have MFA, with their own full-access token of a live session"
            }
            Requirement::AdminFreshFactor => {
                "`OWNER` or `ADMINISTRATOR` of the organization, with their own full-access token, second factor at most 15 minutes old"
            }
        }
    }
}

/// The table: every action, the routes that take it (Frontegg's by their path after
/// `/resources/`), and what it requires.
pub const TABLE: &[(Action, &str, Requirement)] = &[
    (
        Action::Read,
        "`status`, `methods`, `factors`, `devices`, `remember-device`; Frontegg: `users/v1/mfa/devices`, `configurations/v1/mfa-policy/allow-remember-device`",
        Requirement::Token,
    ),
    (
        Action::Verify,
        "`verify-login`, `recover`, `passkey/auth-options`, `magic-link/send`, `email-code/send`, `sms/send`; Frontegg: `auth/v1/user/mfa/verify`, `auth/v1/user/mfa/authenticator/{deviceId}/verify`, `auth/v1/user/mfa/sms/{deviceId}`, `auth/v1/user/mfa/sms/{deviceId}/verify`, `auth/v1/user/mfa/emailcode`, `auth/v1/user/mfa/emailcode/verify`, `auth/v1/user/mfa/webauthn/{deviceId}`, `auth/v1/user/mfa/webauthn/{deviceId}/verify`, `users/v1/mfa/sms/{deviceId}/disable`, `users/v1/mfa/webauthn/{deviceId}/disable`",
        Requirement::Token,
    ),
    (Action::ChoosePrimary, "`primary`", Requirement::Token),
    (
        Action::StartSetup,
        "`setup` (every method); Frontegg: `auth/v1/user/mfa/authenticator/enroll`, `auth/v1/user/mfa/sms/enroll`, `auth/v1/user/mfa/webauthn/enroll`, `users/v1/mfa/authenticator/enroll`, `users/v1/mfa/sms/enroll`, `users/v1/mfa/enroll`",
        Requirement::FreshFactor,
    ),
    (
        Action::CompleteSetup,
        "`verify-setup`, `magic-link/activate`, `passkey/complete-registration[-1]`; Frontegg: `auth/v1/user/mfa/authenticator/enroll/verify`, `auth/v1/user/mfa/sms/enroll/verify`, `auth/v1/user/mfa/webauthn/enroll/verify` (which also log in), `users/v1/mfa/authenticator/enroll/verify`, `users/v1/mfa/sms/enroll/verify`, `users/v1/mfa/enroll/verify`",
        Requirement::AuthorizedSetup,
    ),
    (Action::Enable, "`enable`", Requirement::FreshFactor),
    (Action::Disable, "`disable`", Requirement::FreshFactor),
    (Action::RegenerateBackupCodes, "`backup-codes`", Requirement::FreshFactor),
    (Action::RenameFactor, "`PATCH factors/{factorId}`", Requirement::FreshFactor),
    (
        Action::RemoveFactor,
        "`DELETE factors/{factorId}`; Frontegg, with the proof in the body: `users/v1/mfa/authenticator/{deviceId}/disable/verify`, `users/v1/mfa/sms/{deviceId}/disable/verify`, `users/v1/mfa/webauthn/{deviceId}/disable/verify`",
        Requirement::FreshFactorOrProof,
    ),
    (
        Action::ResetSelf,
        "`reset` (no `resetUserId`, or one's own); Frontegg, with a code or recovery code in the body: `users/v1/mfa/disable`, `auth/v1/user/mfa/recover`",
        Requirement::FreshFactorOrProof,
    ),
    (Action::ResetMember, "`reset` with another user's `resetUserId`", Requirement::AdminFreshFactor),
    (Action::Enforce, "`organization/enforce` `{enforced: true}`", Requirement::AdminRole),
    (Action::LiftEnforcement, "`organization/enforce` `{enforced: false}`", Requirement::AdminFreshFactor),
    (
        Action::ChooseAllowedMethods,
        "`organization/enforce` with `allowedMethods`, `phishingResistantOnly`, `smsCountryCodes`, `rememberDeviceDays` or `gracePeriodDays`",
        Requirement::AdminFreshFactor,
    ),
    (Action::ForgetDevices, "`DELETE devices`, `DELETE devices/{deviceId}`", Requirement::Token),
    (Action::ReadMemberEvents, "`events` with another user's `userId`", Requirement::AdminSession),
    (Action::ReadOwnEvents, "`events`", Requirement::Session),
];

impl Action {
    /// Every action, each once (a new one fails to compile in [`Action::index`] until it
    /// is listed here and in [`TABLE`]).
    pub const ALL: [Action; 18] = [
        Action::Read,
        Action::Verify,
        Action::ChoosePrimary,
        Action::StartSetup,
        Action::CompleteSetup,
        Action::Enable,
        Action::Disable,
        Action::RegenerateBackupCodes,
        Action::RenameFactor,
        Action::RemoveFactor,
        Action::ResetSelf,
        Action::ResetMember,
        Action::Enforce,
        Action::LiftEnforcement,
        Action::ChooseAllowedMethods,
        Action::ForgetDevices,
        Action::ReadMemberEvents,
        Action::ReadOwnEvents,
    ];

    /// Whether the action only takes access away: a factor switched off or removed, every
    /// factor reset, remembered devices forgotten (and the sessions they end). Such a change
    /// must not lose to the logins it ends: its write tries again for longer when they race
    /// it (`update`).
    pub const fn takes_access_away(self) -> bool {
        matches!(
            self,
            Action::Disable | Action::RemoveFactor | Action::ResetSelf | Action::ResetMember | Action::ForgetDevices
        )
    }

    /// The action's place in [`Action::ALL`].
    pub const fn index(self) -> usize {
        match self {
            Action::Read => 0,
            Action::Verify => 1,
            Action::ChoosePrimary => 2,
            Action::StartSetup => 3,
            Action::CompleteSetup => 4,
            Action::Enable => 5,
            Action::Disable => 6,
            Action::RegenerateBackupCodes => 7,
            Action::RenameFactor => 8,
            Action::RemoveFactor => 9,
            Action::ResetSelf => 10,
            Action::ResetMember => 11,
            Action::Enforce => 12,
            Action::LiftEnforcement => 13,
            Action::ChooseAllowedMethods => 14,
            Action::ForgetDevices => 15,
            Action::ReadMemberEvents => 16,
            Action::ReadOwnEvents => 17,
        }
    }

    /// The action in a few words (the policy table of docs/security-model.md).
    pub fn label(self) -> &'static str {
        match self {
            Action::Read => "Read one's own MFA state",
            Action::Verify => "Check a second factor",
            Action::ChoosePrimary => "Choose the primary method",
            Action::StartSetup => "Begin setting up a method (new or replacement)",
            Action::CompleteSetup => "Complete a setup",
            Action::Enable => "Switch a configured method back on",
            Action::Disable => "Switch a method off",
            Action::RegenerateBackupCodes => "Regenerate backup codes",
            Action::RenameFactor => "Rename a factor",
            Action::RemoveFactor => "Remove a factor",
            Action::ResetSelf => "Reset one's own MFA",
            Action::ResetMember => "Reset a member's MFA",
            Action::Enforce => "Require MFA in the organization",
            Action::LiftEnforcement => "Stop requiring it",
            Action::ChooseAllowedMethods => {
                "Choose the methods members may set up, and how long devices are remembered"
            }
            Action::ForgetDevices => "Forget remembered devices",
            Action::ReadMemberEvents => "Read a member's audit events",
            Action::ReadOwnEvents => "Read one's own audit events",
        }
    }

    /// What the action requires, from [`TABLE`].
    pub fn requirement(self) -> Requirement {
        TABLE
            .iter()
            .find(|(a, _, _)| *a == self)
            .map(|(_, _, r)| *r)
            .expect("every action is in the table (checked by a test)")
    }
}

/// Who is acting on the user's record.
#[derive(Clone, Copy, Debug)]
pub enum Actor<'a> {
    /// The user, with their own token.
    User(&'a Principal),
    /// An organization administrator acting on a member.
    Admin(&'a Principal),
    /// Whoever holds a single-use token mailed to the user (magic-link activation): no
    /// bearer token at all.
    LinkHolder,
}

impl Actor<'_> {
    fn principal(&self) -> Option<&Principal> {
        match self {
            Actor::User(p) | Actor::Admin(p) => Some(p),
            Actor::LinkHolder => None,
        }
    }

    /// The actor's own email claim when the actor is the user (notices go there too).
    pub fn user_email(&self) -> Option<&str> {
        match self {
            Actor::User(p) => p.email.as_deref(),
            Actor::Admin(_) | Actor::LinkHolder => None,
        }
    }
}

/// One change of a user's record: what, by whom, when.
#[derive(Clone, Copy, Debug)]
pub struct Change<'a> {
    pub action: Action,
    pub actor: Actor<'a>,
    /// For [`Action::StartSetup`], the method of the new factor; for
    /// [`Action::CompleteSetup`], the method whose pending setup it finishes.
    pub method: Option<MfaType>,
    pub now: i64,
    /// A proof of a factor presented in the request itself, for an action whose
    /// requirement takes one ([`Requirement::FreshFactorOrProof`]); checked, spent and
    /// counted in the change's write by the lockout.
    pub proof: Option<ProofKind>,
}

/// What kind of proof of a factor a request carries, as the change's event records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProofKind {
    AuthenticatorCode,
    SmsCode,
    EmailCode,
    /// A login link: it proves a factor for a login, never for a change.
    Link,
    PasskeyAssertion,
    RecoveryCode,
}

impl ProofKind {
    /// The method whose factor it proves (none: a recovery code).
    pub fn method(self) -> Option<MfaType> {
        match self {
            ProofKind::AuthenticatorCode => Some(MfaType::GoogleAuth),
            ProofKind::SmsCode => Some(MfaType::Sms),
            ProofKind::EmailCode => Some(MfaType::EmailOtp),
            ProofKind::Link => Some(MfaType::MagicLink),
            ProofKind::PasskeyAssertion => Some(MfaType::Passkey),
            ProofKind::RecoveryCode => None,
        }
    }

    /// Its name in an event's `detail` (`proof: <name>`).
    pub fn name(self) -> &'static str {
        match self {
            ProofKind::AuthenticatorCode => "authenticator code",
            ProofKind::SmsCode => "SMS code",
            ProofKind::EmailCode => "email code",
            ProofKind::Link => "link",
            ProofKind::PasskeyAssertion => "passkey assertion",
            ProofKind::RecoveryCode => "recovery code",
        }
    }
}

impl<'a> Change<'a> {
    /// The user acting on their own record.
    pub fn by_user(action: Action, principal: &'a Principal, now: i64) -> Self {
        Self { action, actor: Actor::User(principal), method: None, now, proof: None }
    }

    /// The user beginning the setup of a `method` factor.
    pub fn starting(method: MfaType, principal: &'a Principal, now: i64) -> Self {
        Self { action: Action::StartSetup, actor: Actor::User(principal), method: Some(method), now, proof: None }
    }

    /// The user switching their configured `method` back on.
    pub fn enabling(method: MfaType, principal: &'a Principal, now: i64) -> Self {
        Self { action: Action::Enable, actor: Actor::User(principal), method: Some(method), now, proof: None }
    }

    /// An administrator acting on a member's record.
    pub fn by_admin(action: Action, admin: &'a Principal, now: i64) -> Self {
        Self { action, actor: Actor::Admin(admin), method: None, now, proof: None }
    }

    /// Finishing the pending setup of `method`.
    pub fn completing(method: MfaType, actor: Actor<'a>, now: i64) -> Self {
        Self { action: Action::CompleteSetup, actor, method: Some(method), now, proof: None }
    }

    /// The user making `action` with `proof`, a factor's proof presented in the request.
    pub fn with_proof(action: Action, principal: &'a Principal, proof: ProofKind, now: i64) -> Self {
        Self { action, actor: Actor::User(principal), method: None, now, proof: Some(proof) }
    }

    /// The organization the actor's token names, if any: whose policy is read with a record
    /// that is bound to none yet (a bound record's own organization governs it).
    pub fn named_org(&self) -> Option<&str> {
        self.actor.principal().and_then(|p| p.org_id.as_deref())
    }

    /// The method of the factor this change adds, when it adds one: the one rule for
    /// "adds a factor of method m" covers beginning a setup, completing one and switching a
    /// method back on alike, so a method excluded in between can be reached by none.
    pub fn adds(&self) -> Option<MfaType> {
        match self.action {
            Action::StartSetup | Action::CompleteSetup | Action::Enable => self.method,
            _ => None,
        }
    }

    /// Where the request came from (audit events carry it); nothing for a link holder.
    pub fn origin(&self) -> &crate::auth::Origin {
        static NONE: crate::auth::Origin = crate::auth::Origin { source_ip: None, user_agent: None };
        self.actor.principal().map(|p| &p.origin).unwrap_or(&NONE)
    }

    /// Whether this change, made, spent one of the user's recovery codes: as the proof in
    /// the request (Frontegg's removals and recovery), or as the factor of a login or a
    /// recovery. The trail records it and the user is told, whichever route spent it.
    pub fn spent_recovery_code(&self, before: &UserMfaRecord, after: &UserMfaRecord) -> bool {
        self.proof == Some(ProofKind::RecoveryCode)
            || (self.action == Action::Verify && after.spent_a_backup_code_of(before))
    }

    /// Whether the request carries a proof of a factor (a code, an assertion or a recovery
    /// code; a login link is none).
    pub fn has_proof(&self) -> bool {
        self.proof.is_some_and(|p| p != ProofKind::Link)
    }

    /// Whether the actor holds a second factor fresh enough for a step-up action (its
    /// session's liveness is checked against the record first, in [`check`]).
    pub fn has_fresh_factor(&self) -> bool {
        self.actor.principal().is_some_and(|p| fresh(p, self.now))
    }

    /// The step-up to record with a setup this change begins: the actor's second factor
    /// and its session, when it is fresh.
    pub fn step_up(&self) -> Option<StepUp> {
        let p = self.actor.principal().filter(|_| self.has_fresh_factor())?;
        Some(StepUp { session: p.session_id.clone()?, at: p.auth_time? })
    }

    /// The session the actor acts in, when it is a live session of the user's own (the
    /// backup codes a change issues belong to it).
    pub fn user_session(&self) -> Option<String> {
        match self.actor {
            Actor::User(p) if p.session_verified => p.session_id.clone(),
            _ => None,
        }
    }

    /// The session that makes this change, judged on the record `before` it: the user's
    /// own live session, or, for a completion, the session its setup was stepped up in.
    /// When the change ends the user's other sessions, this one goes on.
    pub fn acting_session<'r>(&'r self, before: &'r UserMfaRecord) -> Option<&'r str> {
        match self.actor {
            Actor::User(p) if p.session_verified => p.session_id.as_deref(),
            Actor::Admin(_) => None,
            Actor::User(_) | Actor::LinkHolder => self
                .method
                .filter(|_| self.action == Action::CompleteSetup)
                .and_then(|m| before.pending(m))
                .and_then(|f| f.setup.as_ref()?.step_up.as_ref())
                .map(|s| s.session.as_str()),
        }
    }
}

/// Whether MFA is required of the user: an administrator required it (it outlives a
/// reset), or the organization that governs the user (`rules`, the policy read with the
/// record) enforces it. A user it is required of keeps at least one factor.
pub fn requires_mfa(record: &UserMfaRecord, rules: Option<&OrgPolicy>) -> bool {
    record.is_required || rules.is_some_and(|p| p.enforced)
}

/// A full-access token whose second factor is at most [`STEP_UP_MAX_AGE`] old at `now`.
pub fn fresh(principal: &Principal, now: i64) -> bool {
    principal.factor_within(STEP_UP_MAX_AGE, now)
}

/// Whether a login with a factor of `method` (none: a recovery code) may start a session
/// of a member of `org`: an organization that accepts only phishing-resistant factors
/// refuses every other one once its grace period is over (`enrollment_deadline`, the
/// same deadline members without MFA have). A recovery code stays the way back in.
pub fn login_allowed(method: Option<MfaType>, org: Option<&OrgPolicy>, now: i64) -> Result<(), Refusal> {
    match (method, org) {
        (Some(method), Some(org))
            if org.phishing_resistant_only
                && !method.is_phishing_resistant()
                && org.enrollment_deadline.is_none_or(|deadline| now >= deadline) =>
        {
            Err(Refusal::PhishingResistantRequired(method))
        }
        _ => Ok(()),
    }
}

/// Whether `change` may be made to `record` (the state it is about to replace). For an
/// administrator's action, `admin_record` is the administrator's own record, read with the
/// member's.
pub fn check(
    change: &Change,
    record: &UserMfaRecord,
    admin_record: Option<&UserMfaRecord>,
    org_policy: Option<&OrgPolicy>,
) -> Result<(), Refusal> {
    if let Actor::User(p) = change.actor {
        crate::auth::ensure_live(p, record, change.now)?;
    }
    // An organization may narrow the methods its members have: whatever adds a factor of
    // a method it excludes is refused, however the change began. `org_policy` is the
    // policy of the organization the record is bound to (`Store::load_user_and_rules`).
    if let (Some(method), Some(org)) = (change.adds(), org_policy)
        && !org.allows(method)
    {
        return Err(Refusal::MethodNotAllowedByOrg { method, allowed: org.allowed() });
    }
    // A change made on a proof in the request is a sign-in of its own: an organization that
    // accepts only phishing-resistant factors takes no other proof for it either (checked
    // here, before the proof is checked and spent).
    if let Some(proof) = change.proof {
        login_allowed(proof.method(), org_policy, change.now)?;
    }
    let enrolled = record.has_mfa_enabled();
    match change.action.requirement() {
        Requirement::Token => Ok(()),
        Requirement::Session => match change.actor {
            Actor::User(p) if enrolled && !p.session_verified => Err(Refusal::StepUpRequired),
            _ => Ok(()),
        },
        Requirement::FreshFactor if !enrolled || change.has_fresh_factor() => Ok(()),
        Requirement::FreshFactor => Err(Refusal::StepUpRequired),
        // The proof is checked, spent and counted in this change's own write, before its
        // step runs (`update::attempt`, the only way a change with a proof is written).
        // A login link proves the mailbox, not a factor of the user's choosing: never a
        // change's proof.
        Requirement::FreshFactorOrProof if !enrolled || change.has_fresh_factor() || change.has_proof() => Ok(()),
        Requirement::FreshFactorOrProof => Err(Refusal::StepUpRequired),
        Requirement::AuthorizedSetup => match change.method.and_then(|m| record.pending(m)?.setup.as_ref()) {
            // A recorded step-up lasts as long as the step-up itself: 15 minutes from the
            // second factor (so never longer than 15 minutes from the setup's start), and
            // only while its session lives.
            Some(pending) if enrolled && !change.has_fresh_factor() => {
                let recorded = pending.step_up.as_ref().is_some_and(|s| {
                    record.has_live_session(&s.session, change.now) && change.now - s.at <= STEP_UP_MAX_AGE
                });
                if recorded { Ok(()) } else { Err(Refusal::StepUpRequired) }
            }
            _ => Ok(()),
        },
        Requirement::AdminRole | Requirement::AdminSession | Requirement::AdminFreshFactor => {
            let Actor::Admin(acting) = change.actor else { return Err(Refusal::Forbidden) };
            let Some(own) = admin_record else {
                tracing::error!("an administrator's action was checked without their own record");
                return Err(Refusal::Internal);
            };
            let org = admin(change.action, acting, own, change.now)?;
            // Users of other organizations, and unknown users, look the same. The member's
            // organization is the one their record is bound to, never a token's.
            if record.version == 0 || record.org_id.as_deref() != Some(org) {
                return Err(Refusal::UserNotFound);
            }
            Ok(())
        }
    }
}

/// An administrator's organization, once their role, their live session and (where the
/// table says so) their own fresh second factor are established against their own
/// record `own`: an administrator with no MFA of their own is told to set it up.
pub fn admin<'p>(action: Action, acting: &'p Principal, own: &UserMfaRecord, now: i64) -> Result<&'p str, Refusal> {
    crate::auth::ensure_live(acting, own, now)?;
    let org = acting.org_id.as_deref().ok_or(Refusal::NoOrganization)?;
    if !acting.is_org_admin() {
        return Err(Refusal::Forbidden);
    }
    match action.requirement() {
        Requirement::AdminRole => Ok(org),
        Requirement::AdminSession if acting.session_verified || !own.has_mfa_enabled() => Ok(org),
        Requirement::AdminSession => Err(Refusal::StepUpRequired),
        Requirement::AdminFreshFactor if fresh(acting, now) => Ok(org),
        Requirement::AdminFreshFactor if !acting.session_verified && !own.has_mfa_enabled() => {
            Err(Refusal::MfaSetupRequired)
        }
        Requirement::AdminFreshFactor => Err(Refusal::StepUpRequired),
        Requirement::Token
        | Requirement::Session
        | Requirement::FreshFactor
        | Requirement::FreshFactorOrProof
        | Requirement::AuthorizedSetup => Err(Refusal::Forbidden),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::UserId;
    use crate::factors::{Factor, FactorState, Material};
    use crate::model::{LiveSession, PendingSetup};

    fn factor(material: Material, state: FactorState, setup: Option<PendingSetup>) -> Factor {
        Factor {
            id: crate::factors::new_id(),
            name: "f".into(),
            state,
            created_at: 0,
            last_used_at: None,
            setup,
            material,
        }
    }

    fn link() -> Material {
        Material::MagicLink { address: "a@example.com".into() }
    }

    #[test]
    fn every_action_is_in_the_table_once_and_in_order() {
        for (i, a) in Action::ALL.iter().enumerate() {
            assert_eq!(a.index(), i);
            assert_eq!(TABLE.iter().filter(|(t, _, _)| t == a).count(), 1, "{a:?}");
        }
        assert_eq!(TABLE.len(), Action::ALL.len());
    }

    /// `verified_at`: the second factor of session `s1`, or a platform token.
    fn principal(verified_at: Option<i64>, role: Option<&str>) -> Principal {
        Principal {
            user_id: UserId::parse("u1").unwrap(),
            email: None,
            org_id: Some("o1".into()),
            org_role: role.map(String::from),
            session_verified: verified_at.is_some(),
            auth_time: verified_at,
            session_id: verified_at.map(|_| "s1".into()),
            by_device: false,
            origin: Default::default(),
            server: None,
        }
    }

    /// A record of `u1` with an authenticator on and session `s1` live.
    fn enrolled() -> UserMfaRecord {
        let mut r = UserMfaRecord::new("u1");
        let secret = crate::crypto::Sealed { kid: "k".into(), data: "d".into() };
        r.factors.push(factor(Material::GoogleAuth { secret }, FactorState::Enabled, None));
        r.sessions.insert(
            "s1".into(),
            LiveSession { started_at: 0, ends_at: 100_000, by_device: false, device: None, ..Default::default() },
        );
        r
    }

    #[test]
    fn a_factor_change_of_an_enrolled_user_needs_a_fresh_factor() {
        let now = 10_000;
        let password_only = principal(None, None);
        let fresh = principal(Some(now - STEP_UP_MAX_AGE), None);
        let stale = principal(Some(now - STEP_UP_MAX_AGE - 1), None);
        for action in [
            Action::StartSetup,
            Action::Enable,
            Action::Disable,
            Action::RegenerateBackupCodes,
            Action::RenameFactor,
            Action::RemoveFactor,
            Action::ResetSelf,
        ] {
            assert!(
                check(&Change::by_user(action, &password_only, now), &UserMfaRecord::new("u1"), None, None).is_ok(),
                "{action:?}"
            );
            assert_eq!(
                check(&Change::by_user(action, &password_only, now), &enrolled(), None, None).unwrap_err(),
                Refusal::StepUpRequired
            );
            assert_eq!(
                check(&Change::by_user(action, &stale, now), &enrolled(), None, None).unwrap_err(),
                Refusal::StepUpRequired
            );
            assert!(check(&Change::by_user(action, &fresh, now), &enrolled(), None, None).is_ok(), "{action:?}");
        }
        for action in [Action::Verify, Action::ChoosePrimary] {
            assert!(check(&Change::by_user(action, &password_only, now), &enrolled(), None, None).is_ok());
        }
    }

    #[test]
    fn adding_a_factor_of_an_excluded_method_is_one_rule_for_start_completion_and_enable() {
        let now = 10_000;
        let fresh = principal(Some(now), None);
        let narrow = OrgPolicy { allowed_methods: Some(vec![MfaType::Passkey]), ..Default::default() };
        let record = enrolled();
        for change in [
            Change::starting(MfaType::Sms, &fresh, now),
            Change::completing(MfaType::Sms, Actor::User(&fresh), now),
            Change::completing(MfaType::Sms, Actor::LinkHolder, now),
            Change::enabling(MfaType::Sms, &fresh, now),
        ] {
            assert!(
                matches!(check(&change, &record, None, Some(&narrow)), Err(Refusal::MethodNotAllowedByOrg { .. })),
                "{:?}",
                change.action
            );
            assert!(check(&change, &record, None, None).is_ok(), "{:?}: no organization, no list", change.action);
        }
        // Taking a method away is never refused by the list.
        assert!(check(&Change::by_user(Action::Disable, &fresh, now), &record, None, Some(&narrow)).is_ok());
    }

    #[test]
    fn a_token_of_an_ended_session_authorizes_nothing() {
        let now = 10_000;
        let fresh = principal(Some(now), None);
        let mut ended = enrolled();
        ended.end_sessions_except(None);
        for action in Action::ALL
            .into_iter()
            .filter(|a| !matches!(a, Action::ResetMember | Action::Enforce | Action::LiftEnforcement))
        {
            assert_eq!(
                check(&Change::by_user(action, &fresh, now), &ended, None, None).unwrap_err(),
                Refusal::SessionEnded,
                "{action:?}"
            );
        }
        let mut expired = enrolled();
        expired.sessions.get_mut("s1").unwrap().ends_at = now;
        assert_eq!(
            check(&Change::by_user(Action::Verify, &fresh, now), &expired, None, None).unwrap_err(),
            Refusal::SessionEnded
        );
        let owner = principal(Some(now), Some("OWNER"));
        assert_eq!(admin(Action::Enforce, &owner, &ended, now).unwrap_err(), Refusal::SessionEnded);
    }

    #[test]
    fn a_completion_honours_a_recorded_step_up_while_its_session_lives_and_for_15_minutes() {
        let now = 10_000;
        let password_only = principal(None, None);
        let change = Change::completing(MfaType::MagicLink, Actor::LinkHolder, now);
        let mut record = enrolled();
        assert!(check(&change, &record, None, None).is_ok(), "nothing pending: the completion refuses that itself");
        // `factor_at`: when the step-up's second factor passed; the setup began at `now`.
        let pending = |session: Option<&str>, factor_at| {
            let setup = PendingSetup {
                step_up: session.map(|s| StepUp { session: s.into(), at: factor_at }),
                item: None,
                started_at: now,
            };
            factor(link(), FactorState::Pending, Some(setup))
        };
        let set = |record: &mut UserMfaRecord, f: Factor| {
            record.factors.retain(|g| !(g.kind() == f.kind() && g.state == FactorState::Pending));
            record.factors.push(f);
        };
        set(&mut record, pending(None, now));
        assert_eq!(
            check(&change, &record, None, None).unwrap_err(),
            Refusal::StepUpRequired,
            "begun without a fresh factor"
        );
        set(&mut record, pending(Some("s1"), now - STEP_UP_MAX_AGE));
        assert!(check(&change, &record, None, None).is_ok());
        assert_eq!(change.acting_session(&record), Some("s1"), "the completion acts in the setup's session");
        set(&mut record, pending(Some("s1"), now - STEP_UP_MAX_AGE - 1));
        assert_eq!(
            check(&change, &record, None, None).unwrap_err(),
            Refusal::StepUpRequired,
            "its second factor passed more than 15 minutes ago, however recent the setup"
        );
        set(&mut record, pending(Some("s2"), now));
        assert_eq!(check(&change, &record, None, None).unwrap_err(), Refusal::StepUpRequired, "its session has ended");
        let secret = crate::crypto::Sealed { kid: "k".into(), data: "p".into() };
        let setup = PendingSetup { step_up: None, item: None, started_at: now };
        set(&mut record, factor(Material::GoogleAuth { secret }, FactorState::Pending, Some(setup)));
        let other = Change::completing(MfaType::GoogleAuth, Actor::User(&password_only), now);
        assert!(check(&other, &record, None, None).is_err(), "the record of another method does not count");
        let fresh = principal(Some(now), None);
        assert!(check(&Change::completing(MfaType::GoogleAuth, Actor::User(&fresh), now), &record, None, None).is_ok());
        assert!(check(&change, &UserMfaRecord::new("u1"), None, None).is_ok(), "no MFA to protect");
    }

    #[test]
    fn ending_sessions_voids_the_setups_stepped_up_in_them() {
        let mut r = enrolled();
        r.sessions.insert(
            "s2".into(),
            LiveSession { started_at: 0, ends_at: 100_000, by_device: false, device: None, ..Default::default() },
        );
        let setup = |s: &str, item: &str| PendingSetup {
            step_up: Some(StepUp { session: s.into(), at: 5 }),
            item: Some(item.into()),
            started_at: 5,
        };
        r.begin_setup(Material::Passkey { credential: None }, "k".into(), setup("s2", "h"), 5).unwrap();
        r.begin_setup(link(), "m".into(), setup("s1", "m"), 5).unwrap();
        r.end_sessions_except(Some("s1"));
        assert!(r.pending(MfaType::Passkey).is_none(), "begun in the ended session");
        assert_eq!(r.state(MfaType::Passkey), crate::model::MethodState::NotConfigured);
        assert!(r.pending(MfaType::MagicLink).is_some(), "begun in the session that goes on");
        assert_eq!(r.sessions.keys().collect::<Vec<_>>(), ["s1"]);
    }

    #[test]
    fn administrators_act_within_their_organization_with_their_own_fresh_factor() {
        let now = 10_000;
        let mut member = enrolled();
        member.version = 3;
        member.org_id = Some("o1".into());
        let own = enrolled();
        let acting = principal(Some(now), Some("ADMINISTRATOR"));
        let reset = |p: &Principal, own: &UserMfaRecord, member: &UserMfaRecord| {
            check(&Change::by_admin(Action::ResetMember, p, now), member, Some(own), None)
        };
        assert!(reset(&acting, &own, &member).is_ok());
        let password_only = principal(None, Some("OWNER"));
        assert_eq!(reset(&password_only, &own, &member).unwrap_err(), Refusal::StepUpRequired);
        assert_eq!(
            reset(&password_only, &UserMfaRecord::new("u1"), &member).unwrap_err(),
            Refusal::MfaSetupRequired,
            "an administrator without MFA is told to set it up"
        );
        let plain_member = principal(Some(now), Some("MEMBER"));
        assert_eq!(reset(&plain_member, &own, &member).unwrap_err(), Refusal::Forbidden);
        let mut moved = member.clone();
        moved.org_id = Some("o2".into());
        assert_eq!(reset(&acting, &own, &moved).unwrap_err(), Refusal::UserNotFound);
        assert!(admin(Action::Enforce, &password_only, &own, now).is_ok(), "the role is enough to require MFA");
        assert!(admin(Action::LiftEnforcement, &password_only, &own, now).is_err());
    }
}
