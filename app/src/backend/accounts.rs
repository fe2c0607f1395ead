//! Accounts and tenants: sign-up, e-mail verification, sign-in with throttling, password reset,
//! profile, team invitations and roles.

use super::db::is_unique_violation;
use super::hashing::{hash_password, verify_password};
use super::mail::templates;
use super::repo::{audit, email_tokens, invitations, memberships, tenants, throttle, users};
use super::state::AppState;
use super::{now_ms, tokens};
use crate::domain::{Email, NewPassword, PhoneNumber, Role};
use crate::error::{AppError, FormErrors, Problem};
use crate::i18n::Lang;

const VERIFY: &str = "verify_email";
const RESET: &str = "reset_password";
const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;
/// E-mail verification links last two days.
pub const VERIFY_TTL_MS: i64 = 48 * HOUR_MS;
/// Password reset links last one hour.
pub const RESET_TTL_MS: i64 = HOUR_MS;
/// Invitations last a week.
pub const INVITE_TTL_MS: i64 = 7 * 24 * HOUR_MS;
/// Failed sign-ins are counted over this window.
pub const THROTTLE_WINDOW_MS: i64 = 15 * MINUTE_MS;
/// Failed sign-ins allowed per account within the window.
pub const ACCOUNT_FAILURES: i64 = 5;
/// Failed sign-ins allowed per client address within the window.
pub const IP_FAILURES: i64 = 20;
/// Verification or reset e-mails per person per hour.
const MAILS_PER_HOUR: i64 = 5;
/// Longest company or person name.
const MAX_NAME: usize = 120;

/// A successful sign-in or sign-up: what the session must remember.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The person.
    pub user_id: i64,
    /// Their session epoch.
    pub epoch: i64,
    /// Their language.
    pub lang: Lang,
    /// The tenant to open.
    pub tenant_id: Option<i64>,
}

/// The sign-up form.
pub struct SignupForm {
    /// Company name.
    pub company: String,
    /// Person's name.
    pub full_name: String,
    /// E-mail as typed.
    pub email: String,
    /// Mobile as typed.
    pub mobile: String,
    /// Password as typed.
    pub password: String,
}

fn required_name(errors: &mut FormErrors, field: &str, value: &str) -> String {
    let value = value.trim();
    errors.keep(field, value);
    if value.is_empty() {
        errors.add(field, Problem::Required);
    } else if value.chars().count() > MAX_NAME || value.chars().any(char::is_control) {
        errors.add(field, Problem::TooLong);
    }
    value.to_owned()
}

fn parse_email(errors: &mut FormErrors, field: &str, value: &str) -> Option<Email> {
    errors.keep(field, value.trim());
    Email::parse(value)
        .map_err(|e| errors.add(field, Problem::Email(e)))
        .ok()
}

fn parse_password(errors: &mut FormErrors, field: &str, value: &str) -> Option<NewPassword> {
    NewPassword::parse(value)
        .map_err(|e| errors.add(field, Problem::Password(e)))
        .ok()
}

/// Creates a tenant with `user_id` as its owner, audited as `action`.
async fn insert_tenant_with_owner(
    tx: &mut super::db::Tx,
    name: &str,
    user_id: i64,
    action: &str,
    now: i64,
) -> sqlx::Result<i64> {
    let tenant_id = tenants::insert(&mut tx.conn(), name, now).await?;
    memberships::insert(
        &mut tx.conn(),
        tenant_id,
        user_id,
        Role::Owner.as_str(),
        now,
    )
    .await?;
    audit::record(
        &mut tx.conn(),
        Some(tenant_id),
        Some(user_id),
        action,
        "",
        now,
    )
    .await?;
    Ok(tenant_id)
}

fn link(state: &AppState, path: &str, token: &str) -> String {
    format!("{}{path}?token={token}", state.config.public_url)
}

/// Sends a mail in the background: the caller's answer must not depend on mail delivery (that
/// would reveal whether an account exists and slow the page).
fn send_later(state: &AppState, mail: super::mail::Mail) {
    let mailer = state.mailer.clone();
    tokio::spawn(async move {
        if let Err(err) = mailer.send(mail).await {
            tracing::error!(error = format!("{err:#}"), "failed to send an e-mail");
        }
    });
}

async fn issue_verification(
    state: &AppState,
    user_id: i64,
    email: Email,
    name: &str,
    lang: Lang,
) -> Result<(), AppError> {
    let (token, hash) = tokens::generate();
    let now = now_ms();
    let mut tx = state.db.begin().await?;
    email_tokens::insert(
        &mut tx.conn(),
        user_id,
        VERIFY,
        &hash,
        now + VERIFY_TTL_MS,
        now,
    )
    .await?;
    tx.commit().await?;
    let mail = templates::verify_email(lang, email, name, &link(state, "/verify-email", &token));
    state.mailer.send(mail).await?;
    Ok(())
}

/// Creates the tenant, its owner and sends the verification e-mail.
#[tracing::instrument(skip_all)]
pub async fn signup(state: &AppState, lang: Lang, form: SignupForm) -> Result<SignedIn, AppError> {
    let mut errors = FormErrors::default();
    let company = required_name(&mut errors, "company", &form.company);
    let full_name = required_name(&mut errors, "full_name", &form.full_name);
    let email = parse_email(&mut errors, "email", &form.email);
    errors.keep("mobile", form.mobile.trim());
    let mobile = PhoneNumber::parse(&form.mobile)
        .map_err(|e| errors.add("mobile", Problem::Phone(e)))
        .ok();
    let password = parse_password(&mut errors, "password", &form.password);
    let (Some(email), Some(mobile), Some(password)) = (email, mobile, password) else {
        return Err(AppError::Invalid(errors));
    };
    errors.clone().into_result()?;

    let hash = hash_password(password).await?;
    let now = now_ms();
    let mut tx = state.db.begin().await?;
    let new_user = users::NewUser {
        email: email.as_str(),
        full_name: &full_name,
        mobile: Some(mobile.as_e164()),
        password_hash: Some(&hash),
        locale: lang.code(),
        email_verified_at: None,
    };
    let user_id = match users::insert(&mut tx.conn(), &new_user, now).await {
        Ok(id) => id,
        Err(err) if is_unique_violation(&err) => {
            errors.add("email", Problem::EmailTaken);
            return Err(AppError::Invalid(errors));
        }
        Err(err) => return Err(err.into()),
    };
    let tenant_id =
        insert_tenant_with_owner(&mut tx, &company, user_id, "tenant.signup", now).await?;
    tx.commit().await?;
    tracing::info!(tenant_id, user_id, email = %email.masked(), "tenant signed up");

    if let Err(err) = issue_verification(state, user_id, email, &full_name, lang).await {
        // The account exists; the person can ask for the link again from the dashboard.
        tracing::error!(user_id, error = %err, "failed to send the verification e-mail");
    }
    Ok(SignedIn {
        user_id,
        epoch: 0,
        lang,
        tenant_id: Some(tenant_id),
    })
}

async fn check_throttle(state: &AppState, key: &str, limit: i64, now: i64) -> Result<(), AppError> {
    let mut tx = state.db.read().await?;
    let (count, oldest) = throttle::since(&mut tx.conn(), key, now - THROTTLE_WINDOW_MS).await?;
    if count >= limit {
        let retry_at = oldest.unwrap_or(now) + THROTTLE_WINDOW_MS;
        let minutes = ((retry_at - now).max(1) + MINUTE_MS - 1) / MINUTE_MS;
        return Err(AppError::Throttled {
            minutes: u32::try_from(minutes).unwrap_or(15),
        });
    }
    Ok(())
}

/// Checks an e-mail and password. Unknown e-mail and wrong password give the same answer after the
/// same argon2 work; repeated failures per account and per address are throttled.
#[tracing::instrument(skip_all, fields(ip = %ip))]
pub async fn login(
    state: &AppState,
    ip: std::net::IpAddr,
    email: &str,
    password: String,
) -> Result<SignedIn, AppError> {
    let normalized = email.trim().to_lowercase();
    let account_key = format!("acct:{normalized}");
    let ip_key = format!("ip:{ip}");
    let now = now_ms();
    check_throttle(state, &account_key, ACCOUNT_FAILURES, now).await?;
    check_throttle(state, &ip_key, IP_FAILURES, now).await?;

    let user = match Email::parse(&normalized) {
        Ok(email) => {
            let mut tx = state.db.read().await?;
            users::find_by_email(&mut tx.conn(), email.as_str()).await?
        }
        Err(_) => None,
    };
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let ok = verify_password(password, stored).await;
    let mut tx = state.db.begin().await?;
    match user {
        Some(user) if ok => {
            throttle::clear(&mut tx.conn(), &account_key).await?;
            let first = memberships::for_user(&mut tx.conn(), user.user_id)
                .await?
                .first()
                .map(|m| m.tenant_id);
            tx.commit().await?;
            tracing::info!(user_id = user.user_id, "signed in");
            Ok(SignedIn {
                user_id: user.user_id,
                epoch: user.session_epoch,
                lang: Lang::from_code(&user.locale).unwrap_or_default(),
                tenant_id: first,
            })
        }
        _ => {
            throttle::record(&mut tx.conn(), &account_key, now).await?;
            throttle::record(&mut tx.conn(), &ip_key, now).await?;
            throttle::prune(&mut tx.conn(), now - 24 * HOUR_MS).await?;
            tx.commit().await?;
            tracing::info!("failed sign-in");
            Err(AppError::InvalidCredentials)
        }
    }
}

async fn take_token(
    state: &AppState,
    purpose: &str,
    token: &str,
) -> Result<(super::db::Tx, email_tokens::EmailTokenRow), AppError> {
    let now = now_ms();
    let mut tx = state.db.begin().await?;
    let row = email_tokens::find(&mut tx.conn(), purpose, &tokens::hash(token.trim()))
        .await?
        .filter(|row| row.used_at.is_none() && row.expires_at > now)
        .ok_or(AppError::LinkInvalid)?;
    if !email_tokens::consume(&mut tx.conn(), row.email_token_id, now).await? {
        return Err(AppError::LinkInvalid);
    }
    Ok((tx, row))
}

/// Confirms an e-mail address from the link; each link works once.
#[tracing::instrument(skip_all)]
pub async fn verify_email(state: &AppState, token: &str) -> Result<i64, AppError> {
    let (mut tx, row) = take_token(state, VERIFY, token).await?;
    users::mark_verified(&mut tx.conn(), row.user_id, now_ms()).await?;
    tx.commit().await?;
    tracing::info!(user_id = row.user_id, "e-mail verified");
    Ok(row.user_id)
}

/// Sends a fresh verification link (at most a few per hour).
pub async fn resend_verification(state: &AppState, user: &users::UserRow) -> Result<(), AppError> {
    if user.email_verified_at.is_some() {
        return Ok(());
    }
    let now = now_ms();
    let mut tx = state.db.read().await?;
    if email_tokens::count_since(&mut tx.conn(), user.user_id, VERIFY, now - HOUR_MS).await?
        >= MAILS_PER_HOUR
    {
        return Err(AppError::Throttled { minutes: 60 });
    }
    drop(tx);
    let email = Email::parse(&user.email).map_err(|_| AppError::Internal)?;
    let lang = Lang::from_code(&user.locale).unwrap_or_default();
    issue_verification(state, user.user_id, email, &user.full_name, lang).await
}

/// Sends a reset link if the account exists; answers the same either way.
#[tracing::instrument(skip_all)]
pub async fn forgot_password(state: &AppState, email: &str) -> Result<(), AppError> {
    let mut errors = FormErrors::default();
    let Some(email) = parse_email(&mut errors, "email", email) else {
        return Err(AppError::Invalid(errors));
    };
    let now = now_ms();
    let mut tx = state.db.begin().await?;
    let Some(user) = users::find_by_email(&mut tx.conn(), email.as_str()).await? else {
        return Ok(());
    };
    if email_tokens::count_since(&mut tx.conn(), user.user_id, RESET, now - HOUR_MS).await?
        >= MAILS_PER_HOUR
    {
        return Ok(());
    }
    let (token, hash) = tokens::generate();
    email_tokens::insert(
        &mut tx.conn(),
        user.user_id,
        RESET,
        &hash,
        now + RESET_TTL_MS,
        now,
    )
    .await?;
    tx.commit().await?;
    let lang = Lang::from_code(&user.locale).unwrap_or_default();
    send_later(
        state,
        templates::reset_password(
            lang,
            email,
            &user.full_name,
            &link(state, "/reset-password", &token),
        ),
    );
    Ok(())
}

/// Sets a new password from a reset link, signs out every session and uses up every reset link.
#[tracing::instrument(skip_all)]
pub async fn reset_password(state: &AppState, token: &str, password: &str) -> Result<(), AppError> {
    let mut errors = FormErrors::default();
    let Some(password) = parse_password(&mut errors, "password", password) else {
        return Err(AppError::Invalid(errors));
    };
    let hash = hash_password(password).await?;
    let (mut tx, row) = take_token(state, RESET, token).await?;
    let now = now_ms();
    users::set_password(&mut tx.conn(), row.user_id, &hash, now).await?;
    email_tokens::consume_all(&mut tx.conn(), row.user_id, RESET, now).await?;
    // Following the e-mailed link proves the address is theirs.
    users::mark_verified(&mut tx.conn(), row.user_id, now).await?;
    audit::record(
        &mut tx.conn(),
        None,
        Some(row.user_id),
        "user.password_reset",
        "",
        now,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user_id = row.user_id, "password reset");
    Ok(())
}

/// Changes the password of a signed-in person; returns the new session epoch.
pub async fn change_password(
    state: &AppState,
    user: &users::UserRow,
    current: String,
    new: &str,
) -> Result<i64, AppError> {
    let mut errors = FormErrors::default();
    let new = parse_password(&mut errors, "new_password", new);
    if !verify_password(current, user.password_hash.clone()).await {
        errors.add("current_password", Problem::WrongPassword);
    }
    let Some(new) = new else {
        return Err(AppError::Invalid(errors));
    };
    errors.into_result()?;
    let hash = hash_password(new).await?;
    let now = now_ms();
    let mut tx = state.db.begin().await?;
    let epoch = users::set_password(&mut tx.conn(), user.user_id, &hash, now).await?;
    audit::record(
        &mut tx.conn(),
        None,
        Some(user.user_id),
        "user.password_changed",
        "",
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(epoch)
}

/// Updates the person's name and mobile.
pub async fn update_profile(
    state: &AppState,
    user_id: i64,
    full_name: &str,
    mobile: &str,
) -> Result<(), AppError> {
    let mut errors = FormErrors::default();
    let full_name = required_name(&mut errors, "full_name", full_name);
    errors.keep("mobile", mobile.trim());
    let mobile = if mobile.trim().is_empty() {
        None
    } else {
        PhoneNumber::parse(mobile)
            .map_err(|e| errors.add("mobile", Problem::Phone(e)))
            .ok()
    };
    errors.into_result()?;
    let mut tx = state.db.begin().await?;
    users::update_profile(
        &mut tx.conn(),
        user_id,
        &full_name,
        mobile.as_ref().map(|m| m.as_e164()),
        now_ms(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Remembers a signed-in person's language.
pub async fn set_language(state: &AppState, user_id: i64, lang: Lang) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    users::set_locale(&mut tx.conn(), user_id, lang.code(), now_ms()).await?;
    tx.commit().await?;
    Ok(())
}

/// Creates another tenant owned by the person.
pub async fn create_tenant(state: &AppState, user_id: i64, name: &str) -> Result<i64, AppError> {
    let mut errors = FormErrors::default();
    let name = required_name(&mut errors, "company", name);
    errors.into_result()?;
    let now = now_ms();
    let mut tx = state.db.begin().await?;
    let tenant_id =
        insert_tenant_with_owner(&mut tx, &name, user_id, "tenant.created", now).await?;
    tx.commit().await?;
    Ok(tenant_id)
}

fn parse_role(errors: &mut FormErrors, value: &str) -> Option<Role> {
    value
        .parse()
        .map_err(|_| errors.add("role", Problem::InvalidChoice))
        .ok()
}

fn require_owner(role: Role) -> Result<(), AppError> {
    if role.manages_team() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// Invites someone by e-mail to the tenant (owners only).
#[tracing::instrument(skip_all, fields(tenant_id))]
pub async fn invite(
    state: &AppState,
    tenant_id: i64,
    role: Role,
    inviter: &users::UserRow,
    email: &str,
    new_role: &str,
) -> Result<(), AppError> {
    require_owner(role)?;
    let mut errors = FormErrors::default();
    let email = parse_email(&mut errors, "email", email);
    let new_role = parse_role(&mut errors, new_role);
    let (Some(email), Some(new_role)) = (email, new_role) else {
        return Err(AppError::Invalid(errors));
    };
    let now = now_ms();
    let mut tx = state.db.begin().await?;
    if let Some(existing) = users::find_by_email(&mut tx.conn(), email.as_str()).await? {
        if memberships::of_user_in_tenant(&mut tx.conn(), tenant_id, existing.user_id)
            .await?
            .is_some()
        {
            errors.add("email", Problem::AlreadyMember);
            return Err(AppError::Invalid(errors));
        }
    }
    let tenant = tenants::find(&mut tx.conn(), tenant_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (token, hash) = tokens::generate();
    let invitation = invitations::NewInvitation {
        tenant_id,
        email: email.as_str(),
        role: new_role.as_str(),
        token_hash: &hash,
        invited_by_user_id: inviter.user_id,
        expires_at: now + INVITE_TTL_MS,
    };
    invitations::insert(&mut tx.conn(), &invitation, now).await?;
    audit::record(
        &mut tx.conn(),
        Some(tenant_id),
        Some(inviter.user_id),
        "member.invited",
        email.as_str(),
        now,
    )
    .await?;
    tx.commit().await?;
    let lang = Lang::from_code(&inviter.locale).unwrap_or_default();
    let mail = templates::invitation(
        lang,
        email,
        &inviter.full_name,
        &tenant.name,
        &link(state, "/invite", &token),
    );
    state.mailer.send(mail).await?;
    Ok(())
}

/// Withdraws a pending invitation of the tenant.
pub async fn revoke_invitation(
    state: &AppState,
    tenant_id: i64,
    role: Role,
    invitation_id: i64,
) -> Result<(), AppError> {
    require_owner(role)?;
    let mut tx = state.db.begin().await?;
    if !invitations::revoke(&mut tx.conn(), tenant_id, invitation_id, now_ms()).await? {
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

/// A valid invitation found by its token.
pub async fn find_invitation(
    state: &AppState,
    token: &str,
) -> Result<invitations::InvitationRow, AppError> {
    let mut tx = state.db.read().await?;
    invitations::find_by_token(&mut tx.conn(), &tokens::hash(token.trim()))
        .await?
        .filter(|i| i.accepted_at.is_none() && i.revoked_at.is_none() && i.expires_at > now_ms())
        .ok_or(AppError::LinkInvalid)
}

/// Whether an account with this e-mail exists.
pub async fn account_exists(state: &AppState, email: &str) -> Result<bool, AppError> {
    let mut tx = state.db.read().await?;
    Ok(users::find_by_email(&mut tx.conn(), email).await?.is_some())
}

/// How the person accepting an invitation is identified.
pub enum Acceptor<'a> {
    /// Already signed in.
    SignedIn(&'a users::UserRow),
    /// Creating an account for the invited address.
    NewAccount {
        /// Their name.
        full_name: &'a str,
        /// Their password.
        password: &'a str,
        /// Their language.
        lang: Lang,
    },
}

/// Accepts an invitation: links the signed-in account, or creates one for the invited address.
/// Returns the person and the tenant joined.
#[tracing::instrument(skip_all)]
pub async fn accept_invitation(
    state: &AppState,
    token: &str,
    who: Acceptor<'_>,
) -> Result<(i64, i64), AppError> {
    let invitation = find_invitation(state, token).await?;
    let now = now_ms();
    let (user_id, hash) = match who {
        Acceptor::SignedIn(user) if user.email == invitation.email => (Some(user.user_id), None),
        Acceptor::SignedIn(_) => return Err(AppError::Forbidden),
        Acceptor::NewAccount {
            full_name,
            password,
            lang,
        } => {
            let mut errors = FormErrors::default();
            let full_name = required_name(&mut errors, "full_name", full_name);
            let password = parse_password(&mut errors, "password", password);
            let Some(password) = password else {
                return Err(AppError::Invalid(errors));
            };
            errors.into_result()?;
            (
                None,
                Some((full_name, hash_password(password).await?, lang)),
            )
        }
    };
    let mut tx = state.db.begin().await?;
    if !invitations::accept(&mut tx.conn(), invitation.invitation_id, now).await? {
        return Err(AppError::LinkInvalid);
    }
    let user_id = match (user_id, hash) {
        (Some(id), _) => id,
        (None, Some((full_name, hash, lang))) => {
            let new_user = users::NewUser {
                email: &invitation.email,
                full_name: &full_name,
                mobile: None,
                password_hash: Some(&hash),
                locale: lang.code(),
                email_verified_at: Some(now),
            };
            match users::insert(&mut tx.conn(), &new_user, now).await {
                Ok(id) => id,
                Err(err) if is_unique_violation(&err) => return Err(AppError::Unauthenticated),
                Err(err) => return Err(err.into()),
            }
        }
        (None, None) => return Err(AppError::Internal),
    };
    match memberships::insert(
        &mut tx.conn(),
        invitation.tenant_id,
        user_id,
        &invitation.role,
        now,
    )
    .await
    {
        Ok(_) => {}
        // Already a member (joined another way meanwhile): accepting is then a no-op.
        Err(err) if is_unique_violation(&err) => {}
        Err(err) => return Err(err.into()),
    }
    users::mark_verified(&mut tx.conn(), user_id, now).await?;
    audit::record(
        &mut tx.conn(),
        Some(invitation.tenant_id),
        Some(user_id),
        "member.joined",
        &invitation.role,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok((user_id, invitation.tenant_id))
}

/// Members of the tenant.
pub async fn members(
    state: &AppState,
    tenant_id: i64,
) -> Result<Vec<memberships::MemberRow>, AppError> {
    let mut tx = state.db.read().await?;
    Ok(memberships::list(&mut tx.conn(), tenant_id).await?)
}

/// Pending invitations of the tenant.
pub async fn pending_invitations(
    state: &AppState,
    tenant_id: i64,
) -> Result<Vec<invitations::InvitationRow>, AppError> {
    let mut tx = state.db.read().await?;
    Ok(invitations::pending(&mut tx.conn(), tenant_id, now_ms()).await?)
}

/// One member of the tenant; another tenant's id is `NotFound`.
pub async fn member(
    state: &AppState,
    tenant_id: i64,
    membership_id: i64,
) -> Result<memberships::MemberRow, AppError> {
    let mut tx = state.db.read().await?;
    memberships::find(&mut tx.conn(), tenant_id, membership_id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Changes a member's role (owners only; the last owner stays an owner).
pub async fn set_member_role(
    state: &AppState,
    tenant_id: i64,
    role: Role,
    membership_id: i64,
    new_role: &str,
) -> Result<(), AppError> {
    let mut errors = FormErrors::default();
    let new_role = parse_role(&mut errors, new_role);
    let mut tx = state.db.begin().await?;
    let member = memberships::find(&mut tx.conn(), tenant_id, membership_id)
        .await?
        .ok_or(AppError::NotFound)?;
    require_owner(role)?;
    let Some(new_role) = new_role else {
        return Err(AppError::Invalid(errors));
    };
    if member.role == "owner"
        && new_role != Role::Owner
        && memberships::count_owners(&mut tx.conn(), tenant_id).await? <= 1
    {
        errors.add("role", Problem::LastOwner);
        return Err(AppError::Invalid(errors));
    }
    memberships::set_role(
        &mut tx.conn(),
        tenant_id,
        membership_id,
        new_role.as_str(),
        now_ms(),
    )
    .await?;
    audit::record(
        &mut tx.conn(),
        Some(tenant_id),
        Some(member.user_id),
        "member.role_changed",
        new_role.as_str(),
        now_ms(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Removes a member (owners only; never the last owner).
pub async fn remove_member(
    state: &AppState,
    tenant_id: i64,
    role: Role,
    membership_id: i64,
) -> Result<(), AppError> {
    let mut tx = state.db.begin().await?;
    let member = memberships::find(&mut tx.conn(), tenant_id, membership_id)
        .await?
        .ok_or(AppError::NotFound)?;
    require_owner(role)?;
    if member.role == "owner" && memberships::count_owners(&mut tx.conn(), tenant_id).await? <= 1 {
        let mut errors = FormErrors::default();
        errors.add("role", Problem::LastOwner);
        return Err(AppError::Invalid(errors));
    }
    memberships::delete(&mut tx.conn(), tenant_id, membership_id).await?;
    audit::record(
        &mut tx.conn(),
        Some(tenant_id),
        Some(member.user_id),
        "member.removed",
        "",
        now_ms(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// E-mails the tenant's owners that talk time is running low (once per crossing; the caller
/// knows it crossed). Failures are logged: the dashboard shows the warning too.
pub async fn warn_low_balance(state: &AppState, tenant_id: i64) {
    let result = async {
        let summary = super::billing::summary(&state.db, tenant_id).await?;
        // One read for the tenant and its owners; the mails go out after it is closed.
        let mut tx = state.db.read().await?;
        let tenant = tenants::find(&mut tx.conn(), tenant_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let mut owners = Vec::new();
        for member in memberships::list(&mut tx.conn(), tenant_id).await? {
            if member.role == "owner" {
                owners.extend(users::find(&mut tx.conn(), member.user_id).await?);
            }
        }
        drop(tx);
        let link = format!("{}/billing", state.config.public_url);
        for user in owners {
            let lang = Lang::from_code(&user.locale).unwrap_or_default();
            let email = Email::parse(&user.email).map_err(|_| AppError::Internal)?;
            let mail = templates::low_balance(
                lang,
                email,
                &tenant.name,
                summary.available_seconds / 60,
                &link,
            );
            state.mailer.send(mail).await?;
        }
        Ok::<(), AppError>(())
    };
    if let Err(err) = result.await {
        tracing::warn!(tenant_id, error = %err, "failed to send the low-balance warning");
    }
}

/// CLI: creates (or promotes) a platform admin with a verified address and the given password.
pub async fn create_platform_admin(
    state: &AppState,
    email: &str,
    password: &str,
) -> anyhow::Result<i64> {
    let email = Email::parse(email).map_err(|e| anyhow::anyhow!("invalid e-mail: {e}"))?;
    let password = NewPassword::parse(password).map_err(|e| anyhow::anyhow!("{e}"))?;
    let hash = hash_password(password).await?;
    let now = now_ms();
    let mut tx = state.db.begin().await?;
    let user_id = match users::find_by_email(&mut tx.conn(), email.as_str()).await? {
        Some(user) => {
            users::set_password(&mut tx.conn(), user.user_id, &hash, now).await?;
            user.user_id
        }
        None => {
            let new_user = users::NewUser {
                email: email.as_str(),
                full_name: "Platform admin",
                mobile: None,
                password_hash: Some(&hash),
                locale: Lang::Fa.code(),
                email_verified_at: Some(now),
            };
            users::insert(&mut tx.conn(), &new_user, now).await?
        }
    };
    users::set_platform_admin(&mut tx.conn(), user_id, now).await?;
    users::mark_verified(&mut tx.conn(), user_id, now).await?;
    audit::record(
        &mut tx.conn(),
        None,
        Some(user_id),
        "admin.created",
        "",
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(user_id)
}

/// CLI: creates a tenant owned by `owner_email`. A new owner gets an account without a password
/// and a reset link (returned and e-mailed) to choose one.
pub async fn create_tenant_for(
    state: &AppState,
    name: &str,
    owner_email: &str,
) -> anyhow::Result<(i64, Option<String>)> {
    let email = Email::parse(owner_email).map_err(|e| anyhow::anyhow!("invalid e-mail: {e}"))?;
    let name = name.trim();
    anyhow::ensure!(
        !name.is_empty() && name.chars().count() <= MAX_NAME,
        "the tenant name must be 1 to {MAX_NAME} characters"
    );
    let now = now_ms();
    let mut tx = state.db.begin().await?;
    let (user_id, needs_password) =
        match users::find_by_email(&mut tx.conn(), email.as_str()).await? {
            Some(user) => (user.user_id, user.password_hash.is_none()),
            None => {
                let new_user = users::NewUser {
                    email: email.as_str(),
                    full_name: name,
                    mobile: None,
                    password_hash: None,
                    locale: Lang::Fa.code(),
                    email_verified_at: None,
                };
                (users::insert(&mut tx.conn(), &new_user, now).await?, true)
            }
        };
    let tenant_id =
        insert_tenant_with_owner(&mut tx, name, user_id, "tenant.created_by_cli", now).await?;
    let reset_link = if needs_password {
        let (token, hash) = tokens::generate();
        email_tokens::insert(
            &mut tx.conn(),
            user_id,
            RESET,
            &hash,
            now + VERIFY_TTL_MS,
            now,
        )
        .await?;
        Some(link(state, "/reset-password", &token))
    } else {
        None
    };
    tx.commit().await?;
    if let Some(link) = &reset_link {
        state
            .mailer
            .send(templates::reset_password(Lang::Fa, email, name, link))
            .await?;
    }
    Ok((tenant_id, reset_link))
}
