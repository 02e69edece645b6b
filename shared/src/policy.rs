//! Who may change a user's second factors: one table of every action on MFA state and
//! what it requires, and the one check of it.
//!
//! Every change of a user's record runs [`check`] against the record just read, inside
//! the conditional write that makes the change (`update.rs`), so the decision is taken on
//! the state the write replaces and no handler decides on its own. Organization-wide actions,
//! which change no user record, ask [`authorize_admin`].
//!
//! The rule: while the user has any method enabled, every action that adds, re-enables,
//! replaces, weakens or removes a factor, regenerates backup codes or resets MFA needs a
//! full-access token whose second factor is at most 15 minutes old. A setup records
//! whether it began with one, and its completion re-checks that record: a setup begun by
//! a password-only caller before the user had MFA cannot complete after.

use crate::App;
use crate::auth::Principal;
use crate::model::{MfaType, UserMfaRecord};
use crate::refusal::Refusal;

/// How recent the second factor of a full-access token must be for a step-up action.
pub const STEP_UP_MAX_AGE: i64 = 15 * 60;

/// Everything that reads or changes a user's MFA state, or an organization's policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
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
    /// Removing every factor of one's own account.
    ResetSelf,
    /// An administrator removing every factor of a member.
    ResetMember,
    /// Requiring MFA of every member of the organization.
    Enforce,
    /// No longer requiring it.
    LiftEnforcement,
}

/// What an action needs of its caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requirement {
    /// A valid token (platform or full-access) of the user.
    Token,
    /// While the user has any method enabled: the user's full-access token, second factor
    /// at most 15 minutes old.
    FreshFactor,
    /// While the user has any method enabled: the setup began with a fresh second factor
    /// (as recorded with it), or the completing token has one now. With nothing pending
    /// there is nothing to authorize: the completion itself refuses
    /// (`UserMfaRecord::complete_setup`).
    AuthorizedSetup,
    /// `OWNER` or `ADMINISTRATOR` of the organization (of the member, for actions on one).
    AdminRole,
    /// That role, and the administrator's own full-access token with a second factor at
    /// most 15 minutes old (an administrator without MFA must set it up first).
    AdminFreshFactor,
}

impl Requirement {
    /// The requirement in a sentence (the README's policy table).
    pub fn describe(self) -> &'static str {
        match self {
            Requirement::Token => "any valid token of the user",
            Requirement::FreshFactor => {
                "while the user has MFA: the user's full-access token, second factor at most 15 minutes old"
            }
            Requirement::AuthorizedSetup => {
                "while the user has MFA: the setup began with such a token (recorded with it), or the completing token is one"
            }
            Requirement::AdminRole => "`OWNER` or `ADMINISTRATOR` of the organization",
            Requirement::AdminFreshFactor => {
                "`OWNER` or `ADMINISTRATOR` of the organization, with their own full-access token, second factor at most 15 minutes old"
            }
        }
    }
}

/// The table: every action, the routes that take it, and what it requires.
pub const TABLE: &[(Action, &str, Requirement)] = &[
    (Action::Verify, "`verify-login`, `recover`, `passkey/auth-options`, `magic-link/send`", Requirement::Token),
    (Action::ChoosePrimary, "`primary`", Requirement::Token),
    (Action::StartSetup, "`setup` (every method)", Requirement::FreshFactor),
    (
        Action::CompleteSetup,
        "`verify-setup`, `magic-link/activate`, `passkey/complete-registration[-1]`",
        Requirement::AuthorizedSetup,
    ),
    (Action::Enable, "`enable`", Requirement::FreshFactor),
    (Action::Disable, "`disable`", Requirement::FreshFactor),
    (Action::RegenerateBackupCodes, "`backup-codes`", Requirement::FreshFactor),
    (Action::ResetSelf, "`reset` (no `resetUserId`, or one's own)", Requirement::FreshFactor),
    (Action::ResetMember, "`reset` with another user's `resetUserId`", Requirement::AdminFreshFactor),
    (Action::Enforce, "`organization/enforce` `{enforced: true}`", Requirement::AdminRole),
    (Action::LiftEnforcement, "`organization/enforce` `{enforced: false}`", Requirement::AdminFreshFactor),
];

impl Action {
    /// Every action, each once (a new one fails to compile in [`Action::index`] until it
    /// is listed here and in [`TABLE`]).
    pub const ALL: [Action; 11] = [
        Action::Verify,
        Action::ChoosePrimary,
        Action::StartSetup,
        Action::CompleteSetup,
        Action::Enable,
        Action::Disable,
        Action::RegenerateBackupCodes,
        Action::ResetSelf,
        Action::ResetMember,
        Action::Enforce,
        Action::LiftEnforcement,
    ];

    /// The action's place in [`Action::ALL`].
    pub const fn index(self) -> usize {
        match self {
            Action::Verify => 0,
            Action::ChoosePrimary => 1,
            Action::StartSetup => 2,
            Action::CompleteSetup => 3,
            Action::Enable => 4,
            Action::Disable => 5,
            Action::RegenerateBackupCodes => 6,
            Action::ResetSelf => 7,
            Action::ResetMember => 8,
            Action::Enforce => 9,
            Action::LiftEnforcement => 10,
        }
    }

    /// The action in a few words (the README's policy table).
    pub fn label(self) -> &'static str {
        match self {
            Action::Verify => "Check a second factor",
            Action::ChoosePrimary => "Choose the primary method",
            Action::StartSetup => "Begin setting up a method (new or replacement)",
            Action::CompleteSetup => "Complete a setup",
            Action::Enable => "Switch a configured method back on",
            Action::Disable => "Switch a method off",
            Action::RegenerateBackupCodes => "Regenerate backup codes",
            Action::ResetSelf => "Reset one's own MFA",
            Action::ResetMember => "Reset a member's MFA",
            Action::Enforce => "Require MFA in the organization",
            Action::LiftEnforcement => "Stop requiring it",
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
    /// For [`Action::CompleteSetup`]: the method whose pending setup it finishes.
    pub method: Option<MfaType>,
    pub now: i64,
}

impl<'a> Change<'a> {
    /// The user acting on their own record.
    pub fn by_user(action: Action, principal: &'a Principal, now: i64) -> Self {
        Self { action, actor: Actor::User(principal), method: None, now }
    }

    /// An administrator acting on a member's record.
    pub fn by_admin(action: Action, admin: &'a Principal, now: i64) -> Self {
        Self { action, actor: Actor::Admin(admin), method: None, now }
    }

    /// Finishing the pending setup of `method`.
    pub fn completing(method: MfaType, actor: Actor<'a>, now: i64) -> Self {
        Self { action: Action::CompleteSetup, actor, method: Some(method), now }
    }

    /// Whether the actor holds a second factor fresh enough for a step-up action.
    pub fn has_fresh_factor(&self) -> bool {
        self.actor.principal().is_some_and(|p| fresh(p, self.now))
    }
}

/// A full-access token whose second factor is at most [`STEP_UP_MAX_AGE`] old at `now`.
pub fn fresh(principal: &Principal, now: i64) -> bool {
    principal.session_verified && principal.auth_time.is_some_and(|t| now - t <= STEP_UP_MAX_AGE)
}

/// Whether `change` may be made to `record` (the state it is about to replace).
pub fn check(change: &Change, record: &UserMfaRecord) -> Result<(), Refusal> {
    let enrolled = record.has_mfa_enabled();
    match change.action.requirement() {
        Requirement::Token => Ok(()),
        Requirement::FreshFactor if !enrolled || change.has_fresh_factor() => Ok(()),
        Requirement::FreshFactor => Err(Refusal::StepUpRequired),
        Requirement::AuthorizedSetup => match change.method.and_then(|m| record.pending_setups.get(&m)) {
            Some(pending) if enrolled && !pending.stepped_up && !change.has_fresh_factor() => {
                Err(Refusal::StepUpRequired)
            }
            _ => Ok(()),
        },
        Requirement::AdminRole | Requirement::AdminFreshFactor => {
            let Actor::Admin(admin) = change.actor else { return Err(Refusal::Forbidden) };
            let org = admin_requirements(change.action, admin, change.now)?;
            // Users of other organizations, and unknown users, look the same.
            if record.version == 0 || record.org_id.as_deref() != Some(org) {
                return Err(Refusal::UserNotFound);
            }
            Ok(())
        }
    }
}

/// An administrator's organization, once their role (and, where the table says so, their
/// own fresh second factor) are established. Called before any write, so a refusal is
/// precise: an administrator with no MFA of their own is told to set it up.
pub async fn authorize_admin<'p>(app: &App, action: Action, admin: &'p Principal) -> Result<&'p str, Refusal> {
    let now = app.clock.now();
    match admin_requirements(action, admin, now) {
        Err(Refusal::StepUpRequired) if !admin.session_verified => {
            let (own, _) = app.store.load_user_and_policy(admin.user_id.as_str(), None).await?;
            Err(if own.has_mfa_enabled() { Refusal::StepUpRequired } else { Refusal::MfaSetupRequired })
        }
        other => other,
    }
}

fn admin_requirements(action: Action, admin: &Principal, now: i64) -> Result<&str, Refusal> {
    let org = admin.org_id.as_deref().ok_or(Refusal::NoOrganization)?;
    if !admin.is_org_admin() {
        return Err(Refusal::Forbidden);
    }
    match action.requirement() {
        Requirement::AdminRole => Ok(org),
        Requirement::AdminFreshFactor if fresh(admin, now) => Ok(org),
        Requirement::AdminFreshFactor => Err(Refusal::StepUpRequired),
        Requirement::Token | Requirement::FreshFactor | Requirement::AuthorizedSetup => Err(Refusal::Forbidden),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::UserId;
    use crate::model::{MethodState, PendingSetup};

    #[test]
    fn every_action_is_in_the_table_once_and_in_order() {
        for (i, a) in Action::ALL.iter().enumerate() {
            assert_eq!(a.index(), i);
            assert_eq!(TABLE.iter().filter(|(t, _, _)| t == a).count(), 1, "{a:?}");
        }
        assert_eq!(TABLE.len(), Action::ALL.len());
    }

    fn principal(verified_at: Option<i64>, role: Option<&str>) -> Principal {
        Principal {
            user_id: UserId::parse("u1").unwrap(),
            email: None,
            org_id: Some("o1".into()),
            org_role: role.map(String::from),
            session_verified: verified_at.is_some(),
            auth_time: verified_at,
        }
    }

    fn enrolled() -> UserMfaRecord {
        let mut r = UserMfaRecord::new("u1");
        r.set_state(MfaType::GoogleAuth, MethodState::Enabled);
        r
    }

    #[test]
    fn a_factor_change_of_an_enrolled_user_needs_a_fresh_factor() {
        let now = 10_000;
        let password_only = principal(None, None);
        let fresh = principal(Some(now - STEP_UP_MAX_AGE), None);
        let stale = principal(Some(now - STEP_UP_MAX_AGE - 1), None);
        for action in
            [Action::StartSetup, Action::Enable, Action::Disable, Action::RegenerateBackupCodes, Action::ResetSelf]
        {
            assert!(
                check(&Change::by_user(action, &password_only, now), &UserMfaRecord::new("u1")).is_ok(),
                "{action:?}"
            );
            assert_eq!(
                check(&Change::by_user(action, &password_only, now), &enrolled()).unwrap_err(),
                Refusal::StepUpRequired
            );
            assert_eq!(check(&Change::by_user(action, &stale, now), &enrolled()).unwrap_err(), Refusal::StepUpRequired);
            assert!(check(&Change::by_user(action, &fresh, now), &enrolled()).is_ok(), "{action:?}");
        }
        for action in [Action::Verify, Action::ChoosePrimary] {
            assert!(check(&Change::by_user(action, &password_only, now), &enrolled()).is_ok());
        }
    }

    #[test]
    fn a_completion_rechecks_what_its_setup_recorded() {
        let now = 10_000;
        let password_only = principal(None, None);
        let change = Change::completing(MfaType::MagicLink, Actor::LinkHolder, now);
        let mut record = enrolled();
        assert!(check(&change, &record).is_ok(), "nothing pending: the completion refuses that itself");
        record.pending_setups.insert(MfaType::MagicLink, PendingSetup { stepped_up: false, item: None, started_at: 0 });
        assert_eq!(check(&change, &record).unwrap_err(), Refusal::StepUpRequired, "begun without a fresh factor");
        record.pending_setups.insert(MfaType::MagicLink, PendingSetup { stepped_up: true, item: None, started_at: 0 });
        assert!(check(&change, &record).is_ok());
        record
            .pending_setups
            .insert(MfaType::GoogleAuth, PendingSetup { stepped_up: false, item: None, started_at: 0 });
        let other = Change::completing(MfaType::GoogleAuth, Actor::User(&password_only), now);
        assert!(check(&other, &record).is_err(), "the record of another method does not count");
        let fresh = principal(Some(now), None);
        assert!(check(&Change::completing(MfaType::GoogleAuth, Actor::User(&fresh), now), &record).is_ok());
        assert!(check(&change, &UserMfaRecord::new("u1")).is_ok(), "no MFA to protect");
    }

    #[test]
    fn administrators_act_within_their_organization_with_their_own_fresh_factor() {
        let now = 10_000;
        let mut member = enrolled();
        member.version = 3;
        member.org_id = Some("o1".into());
        let admin = principal(Some(now), Some("ADMINISTRATOR"));
        assert!(check(&Change::by_admin(Action::ResetMember, &admin, now), &member).is_ok());
        let password_only = principal(None, Some("OWNER"));
        assert_eq!(
            check(&Change::by_admin(Action::ResetMember, &password_only, now), &member).unwrap_err(),
            Refusal::StepUpRequired
        );
        let plain_member = principal(Some(now), Some("MEMBER"));
        assert_eq!(
            check(&Change::by_admin(Action::ResetMember, &plain_member, now), &member).unwrap_err(),
            Refusal::Forbidden
        );
        member.org_id = Some("o2".into());
        assert_eq!(
            check(&Change::by_admin(Action::ResetMember, &admin, now), &member).unwrap_err(),
            Refusal::UserNotFound
        );
        assert!(admin_requirements(Action::Enforce, &password_only, now).is_ok(), "the role is enough to require MFA");
        assert!(admin_requirements(Action::LiftEnforcement, &password_only, now).is_err());
    }
}
