-- Webhooks: each tenant's endpoint and signing secret, and an outbox of deliveries that a
-- background worker sends (at least once, in order per call and endpoint, retried with backoff).

alter table tenant add column webhook_url text;
alter table tenant add column webhook_secret text;

create table webhook_delivery (
    webhook_delivery_id integer primary key,
    tenant_id bigint not null references tenant (tenant_id),
    phone_call_id bigint references phone_call (phone_call_id),
    event text not null,
    url text not null,
    payload text not null,
    status text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
    attempts bigint not null default 0,
    next_attempt_at bigint not null,
    last_status_code bigint,
    last_response_ms bigint,
    last_response_head text,
    last_error text,
    delivered_at bigint,
    created_at bigint not null
);
create index webhook_delivery_due_idx on webhook_delivery (next_attempt_at) where status = 'pending';
create index webhook_delivery_tenant_idx on webhook_delivery (tenant_id, webhook_delivery_id);
