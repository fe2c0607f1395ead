-- The number an operator's calls show to both parties (its own line on the SIP trunk); null uses
-- the trunk's default.
alter table tenant add column caller_id text;
