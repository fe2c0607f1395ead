-- Top-ups: one row per attempt to pay, credited exactly once when the gateway confirms it.

create table payment (
    payment_id integer primary key,
    tenant_id bigint not null references tenant (tenant_id),
    gateway text not null check (gateway in ('zarinpal', 'test')),
    amount_rial bigint not null check (amount_rial > 0),
    seconds bigint not null check (seconds > 0),
    rate_rial_per_minute bigint not null check (rate_rial_per_minute > 0),
    increment_seconds bigint not null,
    status text not null check (status in ('pending', 'paid', 'failed', 'canceled')),
    authority text unique,
    ref_id text,
    card_pan text,
    failure text,
    verify_attempts bigint not null default 0,
    created_by_user_id bigint references app_user (user_id),
    created_at bigint not null,
    updated_at bigint not null,
    paid_at bigint
);
create index payment_tenant_idx on payment (tenant_id, payment_id);
create index payment_pending_idx on payment (created_at) where status = 'pending';

-- The built-in test gateway's own record of what was "paid" on its page.
create table test_gateway_charge (
    authority text primary key,
    amount_rial bigint not null,
    status text not null check (status in ('open', 'paid', 'canceled')),
    ref_id text,
    created_at bigint not null
);
