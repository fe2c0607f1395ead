//! Server functions: the panel's only way to read and change data. Each one extracts its input,
//! checks the anti-forgery token, calls one service function and maps the result.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::Role;
use crate::error::AppError;
use crate::i18n::Lang;

/// A tenant as the signed-in person sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantView {
    /// Tenant id.
    pub id: i64,
    /// Company name.
    pub name: String,
    /// The person's role in it.
    pub role: Role,
}

/// The signed-in person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserView {
    /// Name.
    pub name: String,
    /// E-mail.
    pub email: String,
    /// E.164 mobile, if any.
    pub mobile: Option<String>,
    /// Whether the e-mail is confirmed.
    pub verified: bool,
    /// Runs the installation.
    pub platform_admin: bool,
    /// The active tenant.
    pub tenant: Option<TenantView>,
    /// Every tenant they belong to.
    pub tenants: Vec<TenantView>,
}

/// What every page needs: the anti-forgery token, the language and who is signed in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionView {
    /// Echoed by every form.
    pub csrf: String,
    /// The panel's language.
    pub lang: Lang,
    /// The signed-in person.
    pub user: Option<UserView>,
}

/// The dashboard's numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardView {
    /// Seconds of talk time new calls may use.
    pub available_seconds: i64,
    /// What the unused talk time cost, in Rial.
    pub value_rial: i64,
    /// Below the low-balance threshold.
    pub low_balance: bool,
    /// The threshold, in minutes.
    pub low_balance_minutes: i64,
    /// The last 30 days, oldest first (today last).
    pub days: Vec<DayView>,
    /// Days of talk time left at the last week's pace (none without calls).
    pub days_left: Option<i64>,
}

/// One day of calls on the dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayView {
    /// Midnight of the day in Tehran, Unix ms.
    pub start_ms: i64,
    /// Calls placed.
    pub calls: i64,
    /// Calls that connected.
    pub answered: i64,
    /// Seconds billed.
    pub billed_seconds: i64,
    /// Spent, Rial.
    pub cost_rial: i64,
}

/// A member on the team page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberView {
    /// Membership id (the id in `/settings/team/{id}`).
    pub id: i64,
    /// Name.
    pub name: String,
    /// E-mail.
    pub email: String,
    /// Role.
    pub role: Role,
    /// Whether their e-mail is confirmed.
    pub verified: bool,
    /// Joined at (Unix ms).
    pub joined_at: i64,
    /// Whether this is the viewer.
    pub is_me: bool,
}

/// A pending invitation on the team page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvitationView {
    /// Invitation id.
    pub id: i64,
    /// Invitee.
    pub email: String,
    /// Role on acceptance.
    pub role: Role,
    /// Sent at (Unix ms).
    pub sent_at: i64,
}

/// The team page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamView {
    /// Members, oldest first.
    pub members: Vec<MemberView>,
    /// Pending invitations, newest first.
    pub invitations: Vec<InvitationView>,
    /// Whether the viewer may manage the team.
    pub can_manage: bool,
}

/// Who may accept an invitation, and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum InviteStep {
    /// Signed in as the invited address: one click to join.
    Accept,
    /// Signed in as someone else.
    WrongAccount,
    /// An account exists for the address: sign in first.
    LogIn,
    /// No account yet: create one here.
    CreateAccount,
}

/// An invitation as its recipient sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvitePreview {
    /// Inviting company.
    pub tenant_name: String,
    /// Invited address.
    pub email: String,
    /// Role offered.
    pub role: Role,
    /// What the visitor can do.
    pub step: InviteStep,
}

pub mod calls;
pub mod webhooks;

#[cfg(feature = "ssr")]
mod edge {
    //! Helpers shared by the server functions.
    use leptos::prelude::*;

    use crate::backend::context::{Ctx, EPOCH_KEY, LANG_KEY, TENANT_KEY, USER_KEY};
    use crate::backend::state::AppState;
    use crate::error::AppError;

    /// Response header marking errors our code produced (see the server's error-status layer).
    pub const HANDLED_HEADER: &str = "x-pol-handled";

    pub fn state() -> Result<AppState, AppError> {
        use_context::<AppState>().ok_or(AppError::Internal)
    }

    pub fn ctx() -> Result<Ctx, AppError> {
        use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Ctx>().cloned())
            .ok_or(AppError::Internal)
    }

    /// Gives JSON callers the error's real status code. Plain form posts (no JavaScript) keep the
    /// redirect back to the form that server functions answer them with.
    pub fn finish<T>(result: Result<T, AppError>) -> Result<T, AppError> {
        if let Err(err) = &result {
            let Some(parts) = use_context::<http::request::Parts>() else {
                return result;
            };
            let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
                return result;
            };
            let is_form_post = parts.method == http::Method::POST
                && parts
                    .headers
                    .get(http::header::ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.contains("text/html"));
            if !is_form_post && parts.uri.path().starts_with("/api/") {
                response.set_status(
                    http::StatusCode::from_u16(err.status())
                        .unwrap_or(http::StatusCode::BAD_REQUEST),
                );
                response.insert_header(
                    http::HeaderName::from_static(HANDLED_HEADER),
                    http::HeaderValue::from_static("1"),
                );
            }
        }
        result
    }

    pub async fn sign_in(
        ctx: &Ctx,
        signed: &crate::backend::accounts::SignedIn,
    ) -> Result<(), AppError> {
        use crate::backend::context::session_error;
        let session = &ctx.session;
        session.cycle_id().await.map_err(session_error)?;
        session
            .insert(USER_KEY, signed.user_id)
            .await
            .map_err(session_error)?;
        session
            .insert(EPOCH_KEY, signed.epoch)
            .await
            .map_err(session_error)?;
        session
            .insert(LANG_KEY, signed.lang)
            .await
            .map_err(session_error)?;
        match signed.tenant_id {
            Some(id) => session
                .insert(TENANT_KEY, id)
                .await
                .map_err(session_error)?,
            None => {
                session
                    .remove::<i64>(TENANT_KEY)
                    .await
                    .map_err(session_error)?;
            }
        }
        Ok(())
    }

    /// A same-site path to go to after signing in; anything else becomes the dashboard.
    pub fn safe_next(next: Option<String>) -> String {
        next.filter(|n| {
            n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') && !n.contains("://")
        })
        .unwrap_or_else(|| "/dashboard".into())
    }

    /// The request context and state for a state-changing call, after checking its
    /// anti-forgery token.
    pub fn checked(csrf: &str) -> Result<(Ctx, AppState), AppError> {
        let ctx = ctx()?;
        ctx.check_csrf(csrf)?;
        Ok((ctx, state()?))
    }

    /// The signed-in platform admin; anyone else is told the page does not exist.
    pub fn admin(ctx: &Ctx) -> Result<&crate::backend::context::CurrentUser, AppError> {
        match &ctx.user {
            Some(user) if user.user.is_platform_admin => Ok(user),
            _ => Err(AppError::NotFound),
        }
    }

    /// A whole number typed by a person (Persian digits, separators, a leading minus).
    pub fn parse_number(
        errors: &mut crate::error::FormErrors,
        field: &str,
        value: &str,
    ) -> Option<i64> {
        use crate::error::Problem;
        errors.keep(field, value.trim());
        let cleaned: String = crate::domain::digits::normalize_digits(value)
            .chars()
            .filter(|c| !matches!(c, ',' | '٬' | ' ' | '_'))
            .map(|c| if c == '−' { '-' } else { c })
            .collect();
        match cleaned.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.add(
                    field,
                    if cleaned.is_empty() {
                        Problem::Required
                    } else {
                        Problem::NotANumber
                    },
                );
                None
            }
        }
    }

    pub fn parse_id(id: &str) -> Result<i64, AppError> {
        id.trim().parse().map_err(|_| AppError::NotFound)
    }
}

/// The anti-forgery token, language and signed-in person.
#[server(endpoint = "session")]
pub async fn get_session() -> Result<SessionView, AppError> {
    edge::finish(
        async {
            let ctx = edge::ctx()?;
            let user = ctx.user.as_ref().map(|cu| {
                let view = |m: &crate::backend::repo::memberships::MembershipRow| TenantView {
                    id: m.tenant_id,
                    name: m.tenant_name.clone(),
                    role: m.role.parse().unwrap_or(Role::Viewer),
                };
                UserView {
                    name: cu.user.full_name.clone(),
                    email: cu.user.email.clone(),
                    mobile: cu.user.mobile.clone(),
                    verified: cu.user.email_verified_at.is_some(),
                    platform_admin: cu.user.is_platform_admin,
                    tenant: cu.tenant.as_ref().map(|t| TenantView {
                        id: t.tenant_id,
                        name: t.name.clone(),
                        role: t.role,
                    }),
                    tenants: cu.memberships.iter().map(view).collect(),
                }
            });
            Ok(SessionView {
                csrf: ctx.csrf.clone(),
                lang: ctx.lang,
                user,
            })
        }
        .await,
    )
}

/// The active tenant's balance.
#[server(endpoint = "dashboard")]
pub async fn get_dashboard() -> Result<DashboardView, AppError> {
    edge::finish(
        async {
            let ctx = edge::ctx()?;
            let tenant = ctx.user()?.tenant()?;
            let state = edge::state()?;
            let summary = crate::backend::billing::summary(&state.db, tenant.tenant_id).await?;
            let activity =
                crate::backend::calls::activity(&state, tenant.tenant_id, crate::backend::now_ms())
                    .await?;
            let pace = activity.daily_pace_seconds();
            Ok(DashboardView {
                days_left: (pace > 0).then(|| summary.available_seconds / pace),
                days: activity
                    .days
                    .iter()
                    .map(|d| DayView {
                        start_ms: crate::backend::calls::Activity::day_start_ms(d),
                        calls: d.calls,
                        answered: d.answered,
                        billed_seconds: d.billed_seconds,
                        cost_rial: d.cost_rial,
                    })
                    .collect(),
                available_seconds: summary.available_seconds,
                value_rial: summary.value.rial(),
                low_balance: summary.available_seconds < summary.low_balance_seconds,
                low_balance_minutes: summary.low_balance_seconds / 60,
            })
        }
        .await,
    )
}

/// Creates a company account and signs its owner in.
#[server(endpoint = "signup")]
pub async fn signup(
    csrf: String,
    company: String,
    full_name: String,
    email: String,
    mobile: String,
    password: String,
) -> Result<(), AppError> {
    edge::finish(
        async {
            let (ctx, state) = edge::checked(&csrf)?;
            let form = crate::backend::accounts::SignupForm {
                company,
                full_name,
                email,
                mobile,
                password,
            };
            let signed = crate::backend::accounts::signup(&state, ctx.lang, form).await?;
            edge::sign_in(&ctx, &signed).await?;
            leptos_axum::redirect("/dashboard");
            Ok(())
        }
        .await,
    )
}

/// Signs in.
#[server(endpoint = "login")]
pub async fn login(
    csrf: String,
    email: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    edge::finish(
        async {
            let (ctx, state) = edge::checked(&csrf)?;
            let signed =
                crate::backend::accounts::login(&state, ctx.client_ip, &email, password).await?;
            edge::sign_in(&ctx, &signed).await?;
            leptos_axum::redirect(&edge::safe_next(next));
            Ok(())
        }
        .await,
    )
}

/// Signs out.
#[server(endpoint = "logout")]
pub async fn logout(csrf: String) -> Result<(), AppError> {
    edge::finish(
        async {
            let (ctx, _) = edge::checked(&csrf)?;
            ctx.session
                .flush()
                .await
                .map_err(crate::backend::context::session_error)?;
            leptos_axum::redirect("/");
            Ok(())
        }
        .await,
    )
}

/// Confirms an e-mail address from the e-mailed link. Needs no anti-forgery token: the
/// single-use token is itself the proof.
#[server(endpoint = "verify_email")]
pub async fn verify_email(token: String) -> Result<(), AppError> {
    edge::finish(
        async {
            let state = edge::state()?;
            crate::backend::accounts::verify_email(&state, &token)
                .await
                .map(|_| ())
        }
        .await,
    )
}

/// Sends the verification link again.
#[server(endpoint = "resend_verification")]
pub async fn resend_verification(csrf: String) -> Result<(), AppError> {
    edge::finish(
        async {
            let (ctx, state) = edge::checked(&csrf)?;
            let user = ctx.user()?;
            crate::backend::accounts::resend_verification(&state, &user.user).await?;
            leptos_axum::redirect("/dashboard?resent=1");
            Ok(())
        }
        .await,
    )
}

/// Sends a password reset link (same answer whether or not the account exists).
#[server(endpoint = "forgot_password")]
pub async fn forgot_password(csrf: String, email: String) -> Result<(), AppError> {
    edge::finish(
        async {
            let (_, state) = edge::checked(&csrf)?;
            crate::backend::accounts::forgot_password(&state, &email).await?;
            leptos_axum::redirect("/forgot-password?sent=1");
            Ok(())
        }
        .await,
    )
}

/// Sets a new password from a reset link.
#[server(endpoint = "reset_password")]
pub async fn reset_password(csrf: String, token: String, password: String) -> Result<(), AppError> {
    edge::finish(
        async {
            let (ctx, state) = edge::checked(&csrf)?;
            crate::backend::accounts::reset_password(&state, &token, &password).await?;
            ctx.session
                .flush()
                .await
                .map_err(crate::backend::context::session_error)?;
            leptos_axum::redirect("/login?reset=1");
            Ok(())
        }
        .await,
    )
}

/// Switches the panel's language, remembered for the person (or the visitor's session).
#[server(endpoint = "set_language")]
pub async fn set_language(csrf: String, lang: String) -> Result<(), AppError> {
    edge::finish(
        async {
            let (ctx, state) = edge::checked(&csrf)?;
            let lang = Lang::from_code(&lang).ok_or(AppError::NotFound)?;
            if let Some(user) = &ctx.user {
                crate::backend::accounts::set_language(&state, user.user.user_id, lang).await?;
            }
            ctx.session
                .insert(crate::backend::context::LANG_KEY, lang)
                .await
                .map_err(crate::backend::context::session_error)?;
            Ok(())
        }
        .await,
    )
}

/// Opens another of the person's tenants.
#[server(endpoint = "switch_tenant")]
pub async fn switch_tenant(csrf: String, tenant_id: String) -> Result<(), AppError> {
    edge::finish(
        async {
            let (ctx, _) = edge::checked(&csrf)?;
            let id = edge::parse_id(&tenant_id)?;
            let user = ctx.user()?;
            if !user.memberships.iter().any(|m| m.tenant_id == id) {
                return Err(AppError::NotFound);
            }
            ctx.session
                .insert(crate::backend::context::TENANT_KEY, id)
                .await
                .map_err(crate::backend::context::session_error)?;
            leptos_axum::redirect("/dashboard");
            Ok(())
        }
        .await,
    )
}

/// Creates another company owned by the person and opens it.
#[server(endpoint = "create_tenant")]
pub async fn create_tenant(csrf: String, company: String) -> Result<(), AppError> {
    edge::finish(
        async {
            let (ctx, state) = edge::checked(&csrf)?;
            let user = ctx.user()?;
            let id = crate::backend::accounts::create_tenant(&state, user.user.user_id, &company)
                .await?;
            ctx.session
                .insert(crate::backend::context::TENANT_KEY, id)
                .await
                .map_err(crate::backend::context::session_error)?;
            leptos_axum::redirect("/dashboard");
            Ok(())
        }
        .await,
    )
}

/// Updates the person's name and mobile.
#[server(endpoint = "update_profile")]
pub async fn update_profile(
    csrf: String,
    full_name: String,
    mobile: String,
) -> Result<(), AppError> {
    edge::finish(
        async {
            let (ctx, state) = edge::checked(&csrf)?;
            let user = ctx.user()?;
            crate::backend::accounts::update_profile(
                &state,
                user.user.user_id,
                &full_name,
                &mobile,
            )
            .await?;
            leptos_axum::redirect("/settings/profile?saved=1");
            Ok(())
        }
        .await,
    )
}

/// Changes the password; other sessions are signed out, this one stays.
#[server(endpoint = "change_password")]
pub async fn change_password(
    csrf: String,
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    edge::finish(
        async {
            let (ctx, state) = edge::checked(&csrf)?;
            let user = ctx.user()?;
            let epoch = crate::backend::accounts::change_password(
                &state,
                &user.user,
                current_password,
                &new_password,
            )
            .await?;
            let session = &ctx.session;
            session
                .cycle_id()
                .await
                .map_err(crate::backend::context::session_error)?;
            session
                .insert(crate::backend::context::EPOCH_KEY, epoch)
                .await
                .map_err(crate::backend::context::session_error)?;
            leptos_axum::redirect("/settings/security?saved=1");
            Ok(())
        }
        .await,
    )
}

/// The team of the active tenant.
#[server(endpoint = "team")]
pub async fn get_team() -> Result<TeamView, AppError> {
    edge::finish(
        async {
            let ctx = edge::ctx()?;
            let user = ctx.user()?;
            let tenant = user.tenant()?;
            let state = edge::state()?;
            let members = crate::backend::accounts::members(&state, tenant.tenant_id).await?;
            let can_manage = tenant.role.manages_team();
            let invitations = if can_manage {
                crate::backend::accounts::pending_invitations(&state, tenant.tenant_id).await?
            } else {
                Vec::new()
            };
            Ok(TeamView {
                members: members
                    .into_iter()
                    .map(|m| member_view(m, user.user.user_id))
                    .collect(),
                invitations: invitations
                    .into_iter()
                    .map(|i| InvitationView {
                        id: i.invitation_id,
                        email: i.email,
                        role: i.role.parse().unwrap_or(Role::Viewer),
                        sent_at: i.created_at,
                    })
                    .collect(),
                can_manage,
            })
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
fn member_view(m: crate::backend::repo::memberships::MemberRow, me: i64) -> MemberView {
    MemberView {
        id: m.membership_id,
        name: m.full_name,
        email: m.email,
        role: m.role.parse().unwrap_or(Role::Viewer),
        verified: m.email_verified_at.is_some(),
        joined_at: m.created_at,
        is_me: m.user_id == me,
    }
}

/// One member of the active tenant; another tenant's id is not found.
#[server(endpoint = "member")]
pub async fn get_member(id: String) -> Result<MemberView, AppError> {
    edge::finish(
        async {
            let ctx = edge::ctx()?;
            let user = ctx.user()?;
            let tenant = user.tenant()?;
            let member = crate::backend::accounts::member(
                &edge::state()?,
                tenant.tenant_id,
                edge::parse_id(&id)?,
            )
            .await?;
            Ok(member_view(member, user.user.user_id))
        }
        .await,
    )
}

/// Invites someone to the active tenant.
#[server(endpoint = "invite_member")]
pub async fn invite_member(csrf: String, email: String, role: String) -> Result<(), AppError> {
    edge::finish(
        async {
            let (ctx, state) = edge::checked(&csrf)?;
            let user = ctx.user()?;
            let tenant = user.tenant()?;
            crate::backend::accounts::invite(
                &state,
                tenant.tenant_id,
                tenant.role,
                &user.user,
                &email,
                &role,
            )
            .await?;
            leptos_axum::redirect("/settings/team?invited=1");
            Ok(())
        }
        .await,
    )
}

/// Withdraws an invitation.
#[server(endpoint = "revoke_invitation")]
pub async fn revoke_invitation(csrf: String, id: String) -> Result<(), AppError> {
    edge::finish(
        async {
            let (ctx, state) = edge::checked(&csrf)?;
            let tenant = ctx.user()?.tenant()?;
            crate::backend::accounts::revoke_invitation(
                &state,
                tenant.tenant_id,
                tenant.role,
                edge::parse_id(&id)?,
            )
            .await?;
            leptos_axum::redirect("/settings/team");
            Ok(())
        }
        .await,
    )
}

/// Changes a member's role.
#[server(endpoint = "set_member_role")]
pub async fn set_member_role(csrf: String, id: String, role: String) -> Result<(), AppError> {
    edge::finish(
        async {
            let (ctx, state) = edge::checked(&csrf)?;
            let tenant = ctx.user()?.tenant()?;
            let id = edge::parse_id(&id)?;
            crate::backend::accounts::set_member_role(
                &state,
                tenant.tenant_id,
                tenant.role,
                id,
                &role,
            )
            .await?;
            leptos_axum::redirect(&format!("/settings/team/{id}?saved=1"));
            Ok(())
        }
        .await,
    )
}

/// Removes a member.
#[server(endpoint = "remove_member")]
pub async fn remove_member(csrf: String, id: String) -> Result<(), AppError> {
    edge::finish(
        async {
            let (ctx, state) = edge::checked(&csrf)?;
            let tenant = ctx.user()?.tenant()?;
            crate::backend::accounts::remove_member(
                &state,
                tenant.tenant_id,
                tenant.role,
                edge::parse_id(&id)?,
            )
            .await?;
            leptos_axum::redirect("/settings/team?removed=1");
            Ok(())
        }
        .await,
    )
}

/// What the invitation link offers the visitor.
#[server(endpoint = "invitation")]
pub async fn get_invitation(token: String) -> Result<InvitePreview, AppError> {
    edge::finish(
        async {
            let ctx = edge::ctx()?;
            let state = edge::state()?;
            let invitation = crate::backend::accounts::find_invitation(&state, &token).await?;
            let step = match &ctx.user {
                Some(u) if u.user.email == invitation.email => InviteStep::Accept,
                Some(_) => InviteStep::WrongAccount,
                None if crate::backend::accounts::account_exists(&state, &invitation.email)
                    .await? =>
                {
                    InviteStep::LogIn
                }
                None => InviteStep::CreateAccount,
            };
            Ok(InvitePreview {
                tenant_name: invitation.tenant_name,
                email: invitation.email,
                role: invitation.role.parse().unwrap_or(Role::Viewer),
                step,
            })
        }
        .await,
    )
}

/// Accepts an invitation, creating the account if the visitor has none.
#[server(endpoint = "accept_invitation")]
pub async fn accept_invitation(
    csrf: String,
    token: String,
    full_name: Option<String>,
    password: Option<String>,
) -> Result<(), AppError> {
    use crate::backend::accounts::{accept_invitation, Acceptor, SignedIn};
    edge::finish(
        async {
            let (ctx, state) = edge::checked(&csrf)?;
            match &ctx.user {
                Some(user) => {
                    let (_, tenant_id) =
                        accept_invitation(&state, &token, Acceptor::SignedIn(&user.user)).await?;
                    ctx.session
                        .insert(crate::backend::context::TENANT_KEY, tenant_id)
                        .await
                        .map_err(crate::backend::context::session_error)?;
                }
                None => {
                    let who = Acceptor::NewAccount {
                        full_name: full_name.as_deref().unwrap_or_default(),
                        password: password.as_deref().unwrap_or_default(),
                        lang: ctx.lang,
                    };
                    let (user_id, tenant_id) = accept_invitation(&state, &token, who).await?;
                    let signed = SignedIn {
                        user_id,
                        epoch: 0,
                        lang: ctx.lang,
                        tenant_id: Some(tenant_id),
                    };
                    edge::sign_in(&ctx, &signed).await?;
                }
            }
            leptos_axum::redirect("/dashboard");
            Ok(())
        }
        .await,
    )
}

/// A tariff tier as the top-up page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierView {
    /// Smallest top-up it applies to, in Rial.
    pub min_amount_rial: i64,
    /// Price per minute, in Rial.
    pub rate_rial_per_minute: i64,
}

/// The top-up page: tiers in force, the packages, and whether this is the test gateway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopUpView {
    /// Tiers, cheapest threshold first.
    pub tiers: Vec<TierView>,
    /// Package amounts in Toman.
    pub packages_toman: Vec<i64>,
    /// Payments go through the built-in test gateway.
    pub test_mode: bool,
}

/// A payment in the history, on the result page and the receipt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentView {
    /// Id.
    pub id: i64,
    /// Amount in Rial.
    pub amount_rial: i64,
    /// Talk time bought.
    pub seconds: i64,
    /// Price per minute in Rial.
    pub rate_rial_per_minute: i64,
    /// `pending`, `paid`, `failed`, `canceled`.
    pub status: String,
    /// Gateway receipt number.
    pub ref_id: Option<String>,
    /// Masked card.
    pub card_pan: Option<String>,
    /// Why it failed.
    pub failure: Option<String>,
    /// `zarinpal` or `test`.
    pub gateway: String,
    /// When it was started (Unix ms).
    pub created_at: i64,
    /// The company.
    pub tenant_name: String,
}

#[cfg(feature = "ssr")]
fn payment_view(p: crate::backend::repo::payments::PaymentRow, tenant_name: &str) -> PaymentView {
    PaymentView {
        id: p.payment_id,
        amount_rial: p.amount_rial,
        seconds: p.seconds,
        rate_rial_per_minute: p.rate_rial_per_minute,
        status: p.status,
        ref_id: p.ref_id,
        card_pan: p.card_pan,
        failure: p.failure,
        gateway: p.gateway,
        created_at: p.created_at,
        tenant_name: tenant_name.to_owned(),
    }
}

/// The tariff tiers in force now, cheapest threshold first.
#[cfg(feature = "ssr")]
async fn tiers_in_force(
    state: &crate::backend::state::AppState,
) -> Result<Vec<TierView>, AppError> {
    let mut tx = state.db.read().await?;
    let tiers =
        crate::backend::repo::billing::tiers(&mut tx.conn(), crate::backend::now_ms()).await?;
    Ok(tiers
        .into_iter()
        .map(|t| TierView {
            min_amount_rial: t.min_amount_rial,
            rate_rial_per_minute: t.rate_rial_per_minute,
        })
        .collect())
}

/// What the top-up page offers.
#[server(endpoint = "top_up_options")]
pub async fn get_top_up_options() -> Result<TopUpView, AppError> {
    edge::finish(
        async {
            let ctx = edge::ctx()?;
            ctx.user()?.tenant()?;
            let state = edge::state()?;
            Ok(TopUpView {
                tiers: tiers_in_force(&state).await?,
                packages_toman: crate::domain::tariff::PACKAGES_TOMAN.to_vec(),
                test_mode: state.gateways.current.name() == "test",
            })
        }
        .await,
    )
}

/// Starts a top-up and sends the payer to the gateway. Owners and admins only.
#[server(endpoint = "start_top_up")]
pub async fn start_top_up(csrf: String, amount: String) -> Result<(), AppError> {
    edge::finish(
        async {
            let (ctx, state) = edge::checked(&csrf)?;
            let user = ctx.user()?;
            let tenant = user.tenant()?;
            if tenant.role == Role::Viewer {
                return Err(AppError::Forbidden);
            }
            let url = crate::backend::payments::start(
                &state,
                tenant.tenant_id,
                user.user.user_id,
                &amount,
                &user.user.email,
                user.user.mobile.as_deref(),
            )
            .await?;
            leptos_axum::redirect(&url);
            Ok(())
        }
        .await,
    )
}

/// The active tenant's payments, newest first.
#[server(endpoint = "payments")]
pub async fn list_payments() -> Result<Vec<PaymentView>, AppError> {
    edge::finish(
        async {
            let ctx = edge::ctx()?;
            let tenant = ctx.user()?.tenant()?;
            let rows = crate::backend::payments::list(&edge::state()?.db, tenant.tenant_id).await?;
            Ok(rows
                .into_iter()
                .map(|p| payment_view(p, &tenant.name))
                .collect())
        }
        .await,
    )
}

/// One payment of the active tenant; another tenant's id is not found.
#[server(endpoint = "payment")]
pub async fn get_payment(id: String) -> Result<PaymentView, AppError> {
    edge::finish(
        async {
            let ctx = edge::ctx()?;
            let tenant = ctx.user()?.tenant()?;
            let row = crate::backend::payments::get(
                &edge::state()?.db,
                tenant.tenant_id,
                edge::parse_id(&id)?,
            )
            .await?;
            Ok(payment_view(row, &tenant.name))
        }
        .await,
    )
}

/// A charge on the built-in test gateway's page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestChargeView {
    /// Its authority.
    pub authority: String,
    /// Amount in Rial.
    pub amount_rial: i64,
    /// Still open for a decision.
    pub open: bool,
}

/// The test gateway's view of a charge (only while the test gateway is enabled).
#[server(endpoint = "test_charge")]
pub async fn get_test_charge(authority: String) -> Result<TestChargeView, AppError> {
    edge::finish(
        async {
            let state = edge::state()?;
            if state.gateways.test.is_none() {
                return Err(AppError::NotFound);
            }
            let mut tx = state.db.read().await?;
            let charge =
                crate::backend::repo::payments::find_test_charge(&mut tx.conn(), &authority)
                    .await?
                    .ok_or(AppError::NotFound)?;
            Ok(TestChargeView {
                authority: charge.authority,
                amount_rial: charge.amount_rial,
                open: charge.status == "open",
            })
        }
        .await,
    )
}

/// The payer's decision on the test gateway page; returns to Pol's callback like a real gateway.
#[server(endpoint = "test_gateway_decide")]
pub async fn test_gateway_decide(
    csrf: String,
    authority: String,
    decision: String,
) -> Result<(), AppError> {
    edge::finish(
        async {
            let (_, state) = edge::checked(&csrf)?;
            if state.gateways.test.is_none() {
                return Err(AppError::NotFound);
            }
            let pay = decision == "pay";
            crate::backend::gateway::TestGateway::decide(&state.db, &authority, pay).await?;
            let status = if pay { "OK" } else { "NOK" };
            leptos_axum::redirect(&format!(
                "/payments/callback?Authority={}&Status={status}",
                crate::components::url_encode(&authority)
            ));
            Ok(())
        }
        .await,
    )
}

/// A tenant on the platform admin's page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminTenantView {
    /// Tenant id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Available seconds.
    pub available_seconds: i64,
    /// Seconds held by calls in progress.
    pub held_seconds: i64,
    /// Signed up at (Unix ms).
    pub created_at: i64,
    /// The number its calls show (digits), if the platform gave it one.
    pub caller_id: Option<String>,
}

/// Every tenant with its balance (platform admins only).
#[server(endpoint = "admin_tenants")]
pub async fn admin_tenants() -> Result<Vec<AdminTenantView>, AppError> {
    edge::finish(
        async {
            let ctx = edge::ctx()?;
            edge::admin(&ctx)?;
            let state = edge::state()?;
            let mut tx = state.db.read().await?;
            let rows =
                crate::backend::repo::billing::tenants_with_balance(&mut tx.conn(), 500).await?;
            Ok(rows
                .into_iter()
                .map(|r| AdminTenantView {
                    id: r.tenant_id,
                    name: r.name,
                    available_seconds: r.seconds_total - r.seconds_held,
                    held_seconds: r.seconds_held,
                    created_at: r.created_at,
                    caller_id: r.caller_id,
                })
                .collect())
        }
        .await,
    )
}

/// Credits (positive minutes) or debits (negative) a tenant, with a required reason.
#[server(endpoint = "admin_adjust")]
pub async fn admin_adjust(
    csrf: String,
    tenant_id: String,
    minutes: String,
    reason: String,
) -> Result<(), AppError> {
    use crate::backend::billing::{admin_credit, admin_debit, BillingError};
    use crate::error::{FormErrors, Problem};
    edge::finish(
        async {
            let (ctx, state) = edge::checked(&csrf)?;
            let admin = edge::admin(&ctx)?;
            let tenant_id = edge::parse_id(&tenant_id)?;
            let mut errors = FormErrors::default();
            let minutes = edge::parse_number(&mut errors, "minutes", &minutes);
            errors.keep("reason", reason.trim());
            if reason.trim().is_empty() {
                errors.add("reason", Problem::Required);
            } else if reason.chars().count() > 500 {
                errors.add("reason", Problem::TooLong);
            }
            match minutes {
                Some(0) => errors.add("minutes", Problem::Required),
                Some(m) if m.abs() > 1_000_000 => errors.add("minutes", Problem::AmountOutOfRange),
                _ => {}
            }
            let Some(minutes) = minutes else {
                return Err(AppError::Invalid(errors));
            };
            errors.clone().into_result()?;
            let mut tx = state.db.read().await?;
            crate::backend::repo::tenants::find(&mut tx.conn(), tenant_id)
                .await?
                .ok_or(AppError::NotFound)?;
            drop(tx);
            let who = Some(admin.user.user_id);
            let result = if minutes > 0 {
                admin_credit(&state.db, tenant_id, minutes * 60, &reason, who)
                    .await
                    .map(|_| false)
            } else {
                admin_debit(&state.db, tenant_id, -minutes * 60, &reason, who).await
            };
            match result {
                Ok(crossed) => {
                    if crossed {
                        crate::backend::accounts::warn_low_balance(&state, tenant_id).await;
                    }
                }
                Err(BillingError::InsufficientCredit { .. }) => {
                    errors.add("minutes", Problem::ExceedsBalance);
                    return Err(AppError::Invalid(errors));
                }
                Err(other) => return Err(other.into()),
            }
            leptos_axum::redirect("/admin?adjusted=1");
            Ok(())
        }
        .await,
    )
}

/// Gives a tenant the number its calls show to both parties (one of the trunk's numbers), or
/// takes it back (empty). Platform admins only: an operator must not show any number it likes.
#[server(endpoint = "admin_set_caller_id")]
pub async fn admin_set_caller_id(
    csrf: String,
    tenant_id: String,
    caller_id: String,
) -> Result<(), AppError> {
    use crate::error::{FormErrors, Problem};
    edge::finish(
        async {
            let (ctx, state) = edge::checked(&csrf)?;
            let admin = edge::admin(&ctx)?;
            let tenant_id = edge::parse_id(&tenant_id)?;
            let mut errors = FormErrors::default();
            errors.keep("caller_id", caller_id.trim());
            let Ok(number) = crate::domain::phone::caller_id(&caller_id) else {
                errors.add("caller_id", Problem::InvalidCallerId);
                return Err(AppError::Invalid(errors));
            };
            let now = crate::backend::now_ms();
            let mut tx = state.db.begin().await?;
            if !crate::backend::repo::tenants::set_caller_id(
                &mut tx.conn(),
                tenant_id,
                number.as_deref(),
                now,
            )
            .await?
            {
                return Err(AppError::NotFound);
            }
            crate::backend::repo::audit::record(
                &mut tx.conn(),
                Some(tenant_id),
                Some(admin.user.user_id),
                "caller_id_set",
                number.as_deref().unwrap_or(""),
                now,
            )
            .await?;
            tx.commit().await?;
            leptos_axum::redirect("/admin?caller_id=1");
            Ok(())
        }
        .await,
    )
}

/// Tiers in force (platform admins only).
#[server(endpoint = "admin_tiers")]
pub async fn admin_tiers() -> Result<Vec<TierView>, AppError> {
    edge::finish(
        async {
            let ctx = edge::ctx()?;
            edge::admin(&ctx)?;
            let state = edge::state()?;
            tiers_in_force(&state).await
        }
        .await,
    )
}

/// Adds a tier effective now; it replaces the tier with the same threshold for new top-ups only.
#[server(endpoint = "admin_add_tier")]
pub async fn admin_add_tier(
    csrf: String,
    min_amount: String,
    rate: String,
    increment: String,
) -> Result<(), AppError> {
    use crate::error::{FormErrors, Problem};
    edge::finish(
        async {
            let (ctx, state) = edge::checked(&csrf)?;
            let admin = edge::admin(&ctx)?;
            let mut errors = FormErrors::default();
            let min_amount = edge::parse_number(&mut errors, "min_amount", &min_amount);
            let rate = edge::parse_number(&mut errors, "rate", &rate);
            let increment = edge::parse_number(&mut errors, "increment", &increment);
            if min_amount.is_some_and(|m| !(0..=50_000_000).contains(&m)) {
                errors.add("min_amount", Problem::AmountOutOfRange);
            }
            if rate.is_some_and(|r| !(1..=1_000_000).contains(&r)) {
                errors.add("rate", Problem::AmountOutOfRange);
            }
            if increment.is_some_and(|i| !(1..=3600).contains(&i)) {
                errors.add("increment", Problem::AmountOutOfRange);
            }
            let (Some(min_amount), Some(rate), Some(increment)) = (min_amount, rate, increment)
            else {
                return Err(AppError::Invalid(errors));
            };
            errors.into_result()?;
            let now = crate::backend::now_ms();
            let mut tx = state.db.begin().await?;
            crate::backend::repo::billing::insert_tier(
                &mut tx.conn(),
                min_amount * 10,
                rate * 10,
                increment,
                now,
                now,
            )
            .await?;
            crate::backend::repo::audit::record(
                &mut tx.conn(),
                None,
                Some(admin.user.user_id),
                "billing.tier_added",
                &format!("from {min_amount} T: {rate} T/min, {increment} s"),
                now,
            )
            .await?;
            tx.commit().await?;
            leptos_axum::redirect("/admin/tariffs?saved=1");
            Ok(())
        }
        .await,
    )
}

/// Sets the active tenant's low-balance threshold (owners and admins).
#[server(endpoint = "set_low_balance")]
pub async fn set_low_balance(csrf: String, minutes: String) -> Result<(), AppError> {
    use crate::error::{FormErrors, Problem};
    edge::finish(
        async {
            let (ctx, state) = edge::checked(&csrf)?;
            let tenant = ctx.user()?.tenant()?;
            if tenant.role == Role::Viewer {
                return Err(AppError::Forbidden);
            }
            let mut errors = FormErrors::default();
            let minutes = edge::parse_number(&mut errors, "minutes", &minutes);
            if minutes.is_some_and(|m| !(0..=100_000).contains(&m)) {
                errors.add("minutes", Problem::AmountOutOfRange);
            }
            let Some(minutes) = minutes else {
                return Err(AppError::Invalid(errors));
            };
            errors.into_result()?;
            let mut tx = state.db.begin().await?;
            crate::backend::repo::tenants::set_low_balance_minutes(
                &mut tx.conn(),
                tenant.tenant_id,
                minutes,
                crate::backend::now_ms(),
            )
            .await?;
            tx.commit().await?;
            leptos_axum::redirect("/dashboard?threshold=1");
            Ok(())
        }
        .await,
    )
}
