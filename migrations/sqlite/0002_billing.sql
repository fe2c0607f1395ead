-- Prepaid talk time: tariff tiers, credit lots, holds and an append-only ledger.
-- Money is integer Rial, time credit integer seconds.

create table tariff_tier (
    tariff_tier_id integer primary key,
    min_amount_rial bigint not null check (min_amount_rial >= 0),
    rate_rial_per_minute bigint not null check (rate_rial_per_minute > 0),
    increment_seconds bigint not null default 60 check (increment_seconds between 1 and 3600),
    effective_from bigint not null,
    created_at bigint not null
);
insert into tariff_tier (min_amount_rial, rate_rial_per_minute, increment_seconds, effective_from, created_at)
values (0, 2500, 60, 0, 0), (500000, 2000, 60, 0, 0);

-- One row per tenant: the serialisation point that makes overdrawing impossible.
create table tenant_balance (
    tenant_id bigint primary key references tenant (tenant_id),
    seconds_total bigint not null default 0 check (seconds_total >= 0),
    seconds_held bigint not null default 0 check (seconds_held >= 0),
    updated_at bigint not null,
    check (seconds_held <= seconds_total)
);

create table credit_lot (
    credit_lot_id integer primary key,
    tenant_id bigint not null references tenant (tenant_id),
    source text not null check (source in ('payment', 'admin', 'refund')),
    payment_id bigint,
    seconds_bought bigint not null check (seconds_bought > 0),
    seconds_left bigint not null check (seconds_left >= 0 and seconds_left <= seconds_bought),
    rate_rial_per_minute bigint not null check (rate_rial_per_minute >= 0),
    increment_seconds bigint not null check (increment_seconds between 1 and 3600),
    amount_rial bigint not null check (amount_rial >= 0),
    created_at bigint not null
);
create index credit_lot_open_idx on credit_lot (tenant_id, credit_lot_id) where seconds_left > 0;

create table credit_hold (
    credit_hold_id integer primary key,
    tenant_id bigint not null references tenant (tenant_id),
    call_ref text not null,
    seconds bigint not null check (seconds > 0),
    increment_seconds bigint not null,
    status text not null check (status in ('open', 'settled', 'released')),
    talk_seconds bigint,
    billed_seconds bigint,
    cost_rial bigint,
    created_at bigint not null,
    closed_at bigint,
    unique (tenant_id, call_ref)
);
create index credit_hold_open_idx on credit_hold (tenant_id) where status = 'open';

-- Which lots paid for a settled hold, oldest first.
create table hold_charge (
    hold_charge_id integer primary key,
    credit_hold_id bigint not null references credit_hold (credit_hold_id),
    credit_lot_id bigint not null references credit_lot (credit_lot_id),
    seconds bigint not null check (seconds > 0),
    rate_rial_per_minute bigint not null,
    cost_rial bigint not null
);
create index hold_charge_hold_idx on hold_charge (credit_hold_id);

create table ledger_entry (
    ledger_entry_id integer primary key,
    tenant_id bigint not null references tenant (tenant_id),
    kind text not null check (kind in ('top_up', 'hold', 'release', 'call_debit', 'refund', 'adjustment')),
    seconds_delta bigint not null,
    amount_rial bigint not null default 0,
    balance_after bigint not null check (balance_after >= 0),
    credit_hold_id bigint references credit_hold (credit_hold_id),
    credit_lot_id bigint references credit_lot (credit_lot_id),
    reason text not null default '',
    created_at bigint not null
);
create index ledger_entry_tenant_idx on ledger_entry (tenant_id, ledger_entry_id);
