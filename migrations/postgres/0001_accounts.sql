-- Operator accounts, tenants and the e-mailed links that manage them.
-- Times are Unix milliseconds (bigint) so the same SQL runs on SQLite and PostgreSQL.

create table tenant (
    tenant_id bigint generated always as identity primary key,
    name text not null check (length(name) between 1 and 120),
    created_at bigint not null,
    updated_at bigint not null
);

create table app_user (
    user_id bigint generated always as identity primary key,
    email text not null unique,
    full_name text not null,
    mobile text,
    password_hash text,
    email_verified_at bigint,
    locale text not null default 'fa' check (locale in ('fa', 'en')),
    is_platform_admin boolean not null default false,
    session_epoch bigint not null default 0,
    created_at bigint not null,
    updated_at bigint not null
);

create table membership (
    membership_id bigint generated always as identity primary key,
    tenant_id bigint not null references tenant (tenant_id),
    user_id bigint not null references app_user (user_id),
    role text not null check (role in ('owner', 'admin', 'viewer')),
    created_at bigint not null,
    updated_at bigint not null,
    unique (tenant_id, user_id)
);
create index membership_user_idx on membership (user_id);

create table email_token (
    email_token_id bigint generated always as identity primary key,
    user_id bigint not null references app_user (user_id),
    purpose text not null check (purpose in ('verify_email', 'reset_password')),
    token_hash text not null unique,
    expires_at bigint not null,
    used_at bigint,
    created_at bigint not null
);
create index email_token_user_idx on email_token (user_id, purpose);

create table invitation (
    invitation_id bigint generated always as identity primary key,
    tenant_id bigint not null references tenant (tenant_id),
    email text not null,
    role text not null check (role in ('owner', 'admin', 'viewer')),
    token_hash text not null unique,
    invited_by_user_id bigint not null references app_user (user_id),
    expires_at bigint not null,
    accepted_at bigint,
    revoked_at bigint,
    created_at bigint not null
);
create index invitation_tenant_idx on invitation (tenant_id);

create table login_failure (
    login_failure_id bigint generated always as identity primary key,
    throttle_key text not null,
    created_at bigint not null
);
create index login_failure_key_idx on login_failure (throttle_key, created_at);

create table audit_log (
    audit_log_id bigint generated always as identity primary key,
    tenant_id bigint references tenant (tenant_id),
    user_id bigint references app_user (user_id),
    action text not null,
    detail text not null default '',
    created_at bigint not null
);
create index audit_log_tenant_idx on audit_log (tenant_id, created_at);
