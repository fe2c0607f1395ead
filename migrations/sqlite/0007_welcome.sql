-- Each tenant's welcome message: the decoded 8 kHz PCM the engine plays and a WAV preview, and
-- whether the second party hears it too.
alter table tenant add column welcome_to_second boolean not null default false;

create table welcome_message (
    welcome_message_id integer primary key,
    tenant_id bigint not null unique references tenant (tenant_id),
    pcm_path text not null,
    preview_path text not null,
    duration_ms bigint not null,
    original_name text not null,
    original_bytes bigint not null,
    created_at bigint not null
);
