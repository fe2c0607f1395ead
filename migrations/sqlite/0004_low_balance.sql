-- Low-balance warnings: each tenant's threshold, and whether the crossing was already announced.
alter table tenant add column low_balance_minutes bigint not null default 30;
alter table tenant_balance add column low_balance_notified boolean not null default false;
