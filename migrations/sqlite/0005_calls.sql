-- Calls: per-tenant call settings, API tokens, calls with their legs and timeline, and the
-- engines that run them (so a crashed engine's calls can be reconciled by another).

alter table tenant add column first_party text not null default 'passenger'
    check (first_party in ('passenger', 'driver'));
alter table tenant add column max_call_seconds bigint not null default 600;
alter table tenant add column ring_timeout_seconds bigint not null default 30;
alter table tenant add column record_calls boolean not null default true;
alter table tenant add column welcome_enabled boolean not null default true;
alter table tenant add column max_concurrent_calls bigint not null default 10;

create table api_token (
    api_token_id integer primary key,
    tenant_id bigint not null references tenant (tenant_id),
    name text not null check (length(name) between 1 and 80),
    prefix text not null,
    token_hash text not null unique,
    created_by_user_id bigint references app_user (user_id),
    created_at bigint not null,
    last_used_at bigint,
    revoked_at bigint
);
create index api_token_tenant_idx on api_token (tenant_id);

create table engine_node (
    engine_id text primary key,
    started_at bigint not null,
    seen_at bigint not null
);

create table phone_call (
    phone_call_id integer primary key,
    public_id text not null unique,
    tenant_id bigint not null references tenant (tenant_id),
    api_token_id bigint references api_token (api_token_id),
    created_by_user_id bigint references app_user (user_id),
    engine_id text not null,
    status text not null check (status in
        ('queued', 'ringing', 'in-progress', 'completed', 'busy', 'no-answer', 'failed', 'canceled')),
    sandbox boolean not null,
    passenger text not null,
    driver text not null,
    first_party text not null check (first_party in ('passenger', 'driver')),
    max_duration_seconds bigint not null,
    ring_timeout_seconds bigint not null,
    record boolean not null,
    welcome boolean not null,
    reference text,
    callback_url text,
    idempotency_key text,
    request_hash text,
    held_seconds bigint not null,
    known_talk_seconds bigint not null default 0,
    hangup_requested_at bigint,
    talk_seconds bigint,
    billed_seconds bigint,
    cost_rial bigint,
    end_cause text,
    bridged_at bigint,
    ended_at bigint,
    recording_path text,
    recording_content_type text,
    recording_bytes bigint,
    recording_duration_ms bigint,
    created_at bigint not null,
    updated_at bigint not null,
    unique (tenant_id, idempotency_key)
);
create index phone_call_tenant_idx on phone_call (tenant_id, phone_call_id);
create index phone_call_reference_idx on phone_call (tenant_id, reference);
create index phone_call_created_idx on phone_call (tenant_id, created_at);
create index phone_call_active_idx on phone_call (tenant_id)
    where status in ('queued', 'ringing', 'in-progress');

create table call_leg (
    call_leg_id integer primary key,
    phone_call_id bigint not null references phone_call (phone_call_id),
    position text not null check (position in ('first', 'second')),
    party text not null check (party in ('passenger', 'driver')),
    number text not null,
    dialled_at bigint,
    ringing_at bigint,
    answered_at bigint,
    ended_at bigint,
    cause text,
    sip_code bigint,
    unique (phone_call_id, position)
);

create table call_event (
    call_event_id integer primary key,
    phone_call_id bigint not null references phone_call (phone_call_id),
    kind text not null,
    leg text,
    detail text not null default '',
    created_at bigint not null
);
create index call_event_call_idx on call_event (phone_call_id, call_event_id);
