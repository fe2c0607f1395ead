//! `phone_call`, `call_leg`, `call_event`, `engine_node`.

use crate::backend::db::Conn;
use crate::on_conn;

/// A row of `phone_call`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CallRow {
    /// Primary key (also the pagination cursor).
    pub phone_call_id: i64,
    /// The id the API and panel show.
    pub public_id: String,
    /// Owner.
    pub tenant_id: i64,
    /// Status code (see `CallStatus`).
    pub status: String,
    /// Placed on the sandbox.
    pub sandbox: bool,
    /// E.164.
    pub passenger: String,
    /// E.164.
    pub driver: String,
    /// `passenger` or `driver`.
    pub first_party: String,
    /// The limit granted.
    pub max_duration_seconds: i64,
    /// Per leg.
    pub ring_timeout_seconds: i64,
    /// Whether to record.
    pub record: bool,
    /// Whether to play the welcome message.
    pub welcome: bool,
    /// The operator's reference (e.g. their ride id).
    pub reference: Option<String>,
    /// Webhook for this call's events.
    pub callback_url: Option<String>,
    /// SHA-256 of the request, for idempotent retries.
    pub request_hash: Option<String>,
    /// Credit reserved.
    pub held_seconds: i64,
    /// Talk time known at the last checkpoint (used if the engine dies).
    pub known_talk_seconds: i64,
    /// Talk time, once ended.
    pub talk_seconds: Option<i64>,
    /// Billed seconds, once settled.
    pub billed_seconds: Option<i64>,
    /// Cost in Rial, once settled.
    pub cost_rial: Option<i64>,
    /// Why it ended.
    pub end_cause: Option<String>,
    /// When the parties were connected.
    pub bridged_at: Option<i64>,
    /// When it ended.
    pub ended_at: Option<i64>,
    /// Stored recording (relative to the media root).
    pub recording_path: Option<String>,
    /// Its MIME type.
    pub recording_content_type: Option<String>,
    /// Its size.
    pub recording_bytes: Option<i64>,
    /// Its length.
    pub recording_duration_ms: Option<i64>,
    /// Accepted at.
    pub created_at: i64,
}

const COLUMNS: &str = "phone_call_id, public_id, tenant_id, status, sandbox, passenger, driver, \
    first_party, max_duration_seconds, ring_timeout_seconds, record, welcome, reference, \
    callback_url, request_hash, held_seconds, known_talk_seconds, talk_seconds, billed_seconds, \
    cost_rial, end_cause, bridged_at, ended_at, recording_path, recording_content_type, \
    recording_bytes, recording_duration_ms, created_at";

/// Statuses of calls still going (SQL list).
pub const LIVE: &str = "('queued', 'ringing', 'in-progress')";

/// A call to insert.
pub struct NewCall<'a> {
    /// The id the API shows.
    pub public_id: &'a str,
    /// Owner.
    pub tenant_id: i64,
    /// The token that placed it.
    pub api_token_id: Option<i64>,
    /// The person that placed it from the panel.
    pub user_id: Option<i64>,
    /// The engine that runs it.
    pub engine_id: &'a str,
    /// Placed on the sandbox.
    pub sandbox: bool,
    /// E.164.
    pub passenger: &'a str,
    /// E.164.
    pub driver: &'a str,
    /// `passenger` or `driver`.
    pub first_party: &'a str,
    /// Granted limit.
    pub max_duration_seconds: i64,
    /// Per leg.
    pub ring_timeout_seconds: i64,
    /// Record it.
    pub record: bool,
    /// Play the welcome.
    pub welcome: bool,
    /// Operator's reference.
    pub reference: Option<&'a str>,
    /// Webhook.
    pub callback_url: Option<&'a str>,
    /// `Idempotency-Key`.
    pub idempotency_key: Option<&'a str>,
    /// Request hash.
    pub request_hash: &'a str,
    /// Reserved credit.
    pub held_seconds: i64,
}

/// Inserts a queued call; returns its primary key.
pub async fn insert(conn: &mut Conn<'_>, call: &NewCall<'_>, now: i64) -> sqlx::Result<i64> {
    let sql = "insert into phone_call (public_id, tenant_id, api_token_id, created_by_user_id, \
        engine_id, status, sandbox, passenger, driver, first_party, max_duration_seconds, \
        ring_timeout_seconds, record, welcome, reference, callback_url, idempotency_key, \
        request_hash, held_seconds, created_at, updated_at) \
        values ($1, $2, $3, $4, $5, 'queued', $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
        $17, $18, $19, $19) returning phone_call_id";
    on_conn!(conn, c => sqlx::query_scalar(sql)
        .bind(call.public_id)
        .bind(call.tenant_id)
        .bind(call.api_token_id)
        .bind(call.user_id)
        .bind(call.engine_id)
        .bind(call.sandbox)
        .bind(call.passenger)
        .bind(call.driver)
        .bind(call.first_party)
        .bind(call.max_duration_seconds)
        .bind(call.ring_timeout_seconds)
        .bind(call.record)
        .bind(call.welcome)
        .bind(call.reference)
        .bind(call.callback_url)
        .bind(call.idempotency_key)
        .bind(call.request_hash)
        .bind(call.held_seconds)
        .bind(now)
        .fetch_one(&mut **c).await)
}

/// Adds a leg to a call.
pub async fn insert_leg(
    conn: &mut Conn<'_>,
    phone_call_id: i64,
    position: &str,
    party: &str,
    number: &str,
) -> sqlx::Result<()> {
    let sql =
        "insert into call_leg (phone_call_id, position, party, number) values ($1, $2, $3, $4)";
    on_conn!(conn, c => sqlx::query(sql).bind(phone_call_id).bind(position).bind(party).bind(number)
        .execute(&mut **c).await.map(|_| ()))
}

/// One of the tenant's calls by its public id.
pub async fn find(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    public_id: &str,
) -> sqlx::Result<Option<CallRow>> {
    let sql = format!("select {COLUMNS} from phone_call where tenant_id = $1 and public_id = $2");
    on_conn!(conn, c => sqlx::query_as(&sql).bind(tenant_id).bind(public_id).fetch_optional(&mut **c).await)
}

/// A call by public id, in any tenant (signed links only).
pub async fn find_by_public_id(
    conn: &mut Conn<'_>,
    public_id: &str,
) -> sqlx::Result<Option<CallRow>> {
    let sql = format!("select {COLUMNS} from phone_call where public_id = $1");
    on_conn!(conn, c => sqlx::query_as(&sql).bind(public_id).fetch_optional(&mut **c).await)
}

/// A call by primary key (the engine's own lookups).
pub async fn find_by_id(conn: &mut Conn<'_>, phone_call_id: i64) -> sqlx::Result<Option<CallRow>> {
    let sql = format!("select {COLUMNS} from phone_call where phone_call_id = $1");
    on_conn!(conn, c => sqlx::query_as(&sql).bind(phone_call_id).fetch_optional(&mut **c).await)
}

/// The tenant's call placed with this `Idempotency-Key`.
pub async fn find_by_idempotency_key(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    key: &str,
) -> sqlx::Result<Option<CallRow>> {
    let sql =
        format!("select {COLUMNS} from phone_call where tenant_id = $1 and idempotency_key = $2");
    on_conn!(conn, c => sqlx::query_as(&sql).bind(tenant_id).bind(key).fetch_optional(&mut **c).await)
}

/// How many of the tenant's calls are live.
pub async fn count_live(conn: &mut Conn<'_>, tenant_id: i64) -> sqlx::Result<i64> {
    let sql = format!("select count(*) from phone_call where tenant_id = $1 and status in {LIVE}");
    on_conn!(conn, c => sqlx::query_scalar(&sql).bind(tenant_id).fetch_one(&mut **c).await)
}

/// Filters for listing calls; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct CallFilter {
    /// One status code.
    pub status: Option<String>,
    /// Created at or after (Unix ms).
    pub from_ms: Option<i64>,
    /// Created before (Unix ms).
    pub until_ms: Option<i64>,
    /// Digits a party's number ends with.
    pub number_suffix: Option<String>,
    /// Exact reference.
    pub reference: Option<String>,
    /// Only calls older than this primary key (the cursor).
    pub before_id: Option<i64>,
}

/// The tenant's calls, newest first, at most `limit`.
pub async fn list(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    filter: &CallFilter,
    limit: i64,
) -> sqlx::Result<Vec<CallRow>> {
    on_conn!(conn, c => {
        let mut q = sqlx::QueryBuilder::new(format!("select {COLUMNS} from phone_call where tenant_id = "));
        q.push_bind(tenant_id);
        if let Some(status) = &filter.status {
            q.push(" and status = ").push_bind(status.clone());
        }
        if let Some(from) = filter.from_ms {
            q.push(" and created_at >= ").push_bind(from);
        }
        if let Some(until) = filter.until_ms {
            q.push(" and created_at < ").push_bind(until);
        }
        if let Some(suffix) = &filter.number_suffix {
            let pattern = format!("%{suffix}");
            q.push(" and (passenger like ").push_bind(pattern.clone());
            q.push(" or driver like ").push_bind(pattern).push(")");
        }
        if let Some(reference) = &filter.reference {
            q.push(" and reference = ").push_bind(reference.clone());
        }
        if let Some(before) = filter.before_id {
            q.push(" and phone_call_id < ").push_bind(before);
        }
        q.push(" order by phone_call_id desc limit ").push_bind(limit);
        q.build_query_as::<CallRow>().fetch_all(&mut **c).await
    })
}

/// A row of `call_leg`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LegRow {
    /// `first` or `second`.
    pub position: String,
    /// `passenger` or `driver`.
    pub party: String,
    /// E.164.
    pub number: String,
    /// When we started dialling.
    pub dialled_at: Option<i64>,
    /// When it started ringing.
    pub ringing_at: Option<i64>,
    /// When the party answered.
    pub answered_at: Option<i64>,
    /// When the leg ended.
    pub ended_at: Option<i64>,
    /// Why it ended.
    pub cause: Option<String>,
    /// SIP status, if any.
    pub sip_code: Option<i64>,
}

/// A call's legs, first then second.
pub async fn legs(conn: &mut Conn<'_>, phone_call_id: i64) -> sqlx::Result<Vec<LegRow>> {
    let sql = "select position, party, number, dialled_at, ringing_at, answered_at, ended_at, \
               cause, sip_code from call_leg where phone_call_id = $1 order by position";
    on_conn!(conn, c => sqlx::query_as(sql).bind(phone_call_id).fetch_all(&mut **c).await)
}

/// A row of `call_leg` with its call, for lists.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListedLegRow {
    /// The call.
    pub phone_call_id: i64,
    /// The leg.
    #[sqlx(flatten)]
    pub leg: LegRow,
}

/// The legs of several calls in one query, in call then position order.
pub async fn legs_for(
    conn: &mut Conn<'_>,
    phone_call_ids: &[i64],
) -> sqlx::Result<Vec<ListedLegRow>> {
    if phone_call_ids.is_empty() {
        return Ok(Vec::new());
    }
    on_conn!(conn, c => {
        let mut q = sqlx::QueryBuilder::new(
            "select phone_call_id, position, party, number, dialled_at, ringing_at, answered_at, \
             ended_at, cause, sip_code from call_leg where phone_call_id in (",
        );
        let mut ids = q.separated(", ");
        for id in phone_call_ids {
            ids.push_bind(*id);
        }
        q.push(") order by phone_call_id, position");
        q.build_query_as::<ListedLegRow>().fetch_all(&mut **c).await
    })
}

/// A moment in a leg's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegMoment {
    /// We started dialling.
    Dialled,
    /// The phone rang.
    Ringing,
    /// The party answered.
    Answered,
}

/// Stamps a moment on a leg, once.
pub async fn stamp_leg(
    conn: &mut Conn<'_>,
    phone_call_id: i64,
    position: &str,
    moment: LegMoment,
    at: i64,
) -> sqlx::Result<()> {
    let sql = match moment {
        LegMoment::Dialled => "update call_leg set dialled_at = $3 where phone_call_id = $1 and position = $2 and dialled_at is null",
        LegMoment::Ringing => "update call_leg set ringing_at = $3 where phone_call_id = $1 and position = $2 and ringing_at is null",
        LegMoment::Answered => "update call_leg set answered_at = $3 where phone_call_id = $1 and position = $2 and answered_at is null",
    };
    on_conn!(conn, c => sqlx::query(sql).bind(phone_call_id).bind(position).bind(at)
        .execute(&mut **c).await.map(|_| ()))
}

/// Ends a leg, once (legs never dialled stay without an end).
pub async fn end_leg(
    conn: &mut Conn<'_>,
    phone_call_id: i64,
    position: &str,
    cause: &str,
    sip_code: Option<i64>,
    at: i64,
) -> sqlx::Result<()> {
    let sql = "update call_leg set ended_at = $3, cause = $4, sip_code = $5 \
               where phone_call_id = $1 and position = $2 and ended_at is null and dialled_at is not null";
    on_conn!(conn, c => sqlx::query(sql).bind(phone_call_id).bind(position).bind(at).bind(cause).bind(sip_code)
        .execute(&mut **c).await.map(|_| ()))
}

/// Moves a live call to another live status.
pub async fn set_status(
    conn: &mut Conn<'_>,
    phone_call_id: i64,
    status: &str,
    at: i64,
) -> sqlx::Result<()> {
    let sql = format!(
        "update phone_call set status = $2, updated_at = $3 where phone_call_id = $1 and status in {LIVE}"
    );
    on_conn!(conn, c => sqlx::query(&sql).bind(phone_call_id).bind(status).bind(at)
        .execute(&mut **c).await.map(|_| ()))
}

/// Marks the parties connected.
pub async fn set_bridged(conn: &mut Conn<'_>, phone_call_id: i64, at: i64) -> sqlx::Result<()> {
    let sql = format!(
        "update phone_call set status = 'in-progress', bridged_at = $2, updated_at = $2 \
         where phone_call_id = $1 and status in {LIVE}"
    );
    on_conn!(conn, c => sqlx::query(&sql).bind(phone_call_id).bind(at)
        .execute(&mut **c).await.map(|_| ()))
}

/// Records the talk time known so far, in case the engine dies.
pub async fn checkpoint(
    conn: &mut Conn<'_>,
    phone_call_id: i64,
    talk_seconds: i64,
    at: i64,
) -> sqlx::Result<()> {
    let sql = format!(
        "update phone_call set known_talk_seconds = $2, updated_at = $3 \
         where phone_call_id = $1 and status in {LIVE}"
    );
    on_conn!(conn, c => sqlx::query(&sql).bind(phone_call_id).bind(talk_seconds).bind(at)
        .execute(&mut **c).await.map(|_| ()))
}

/// Asks whichever engine runs a live call to hang it up (engines look at their checkpoints).
pub async fn request_hangup(
    conn: &mut Conn<'_>,
    phone_call_id: i64,
    at: i64,
) -> sqlx::Result<bool> {
    let sql = format!(
        "update phone_call set hangup_requested_at = $2 where phone_call_id = $1 \
         and hangup_requested_at is null and status in {LIVE}"
    );
    on_conn!(conn, c => sqlx::query(&sql).bind(phone_call_id).bind(at)
        .execute(&mut **c).await.map(|r| r.rows_affected() == 1))
}

/// Whether someone asked for this call to be hung up.
pub async fn hangup_requested(conn: &mut Conn<'_>, phone_call_id: i64) -> sqlx::Result<bool> {
    let sql = "select hangup_requested_at is not null from phone_call where phone_call_id = $1";
    on_conn!(conn, c => sqlx::query_scalar(sql).bind(phone_call_id)
        .fetch_optional(&mut **c).await.map(|v: Option<bool>| v.unwrap_or(false)))
}

/// How a call ended.
pub struct Ending<'a> {
    /// Terminal status code.
    pub status: &'a str,
    /// Why.
    pub cause: &'a str,
    /// Talk time.
    pub talk_seconds: i64,
    /// Billed time.
    pub billed_seconds: i64,
    /// Cost.
    pub cost_rial: i64,
}

/// Ends a live call; false if it had already ended.
pub async fn finish(
    conn: &mut Conn<'_>,
    phone_call_id: i64,
    ending: &Ending<'_>,
    at: i64,
) -> sqlx::Result<bool> {
    let sql = format!(
        "update phone_call set status = $2, end_cause = $3, talk_seconds = $4, billed_seconds = $5, \
         cost_rial = $6, ended_at = $7, updated_at = $7 where phone_call_id = $1 and status in {LIVE}"
    );
    on_conn!(conn, c => sqlx::query(&sql)
        .bind(phone_call_id)
        .bind(ending.status)
        .bind(ending.cause)
        .bind(ending.talk_seconds)
        .bind(ending.billed_seconds)
        .bind(ending.cost_rial)
        .bind(at)
        .execute(&mut **c).await.map(|r| r.rows_affected() == 1))
}

/// Attaches a stored recording to an ended call.
pub async fn set_recording(
    conn: &mut Conn<'_>,
    phone_call_id: i64,
    path: &str,
    content_type: &str,
    bytes: i64,
    duration_ms: i64,
    at: i64,
) -> sqlx::Result<()> {
    let sql = "update phone_call set recording_path = $2, recording_content_type = $3, \
               recording_bytes = $4, recording_duration_ms = $5, updated_at = $6 where phone_call_id = $1";
    on_conn!(conn, c => sqlx::query(sql).bind(phone_call_id).bind(path).bind(content_type).bind(bytes)
        .bind(duration_ms).bind(at).execute(&mut **c).await.map(|_| ()))
}

/// A row of `call_event`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    /// What happened.
    pub kind: String,
    /// `first`, `second` or none.
    pub leg: Option<String>,
    /// More about it.
    pub detail: String,
    /// When.
    pub created_at: i64,
}

/// Appends to a call's timeline.
pub async fn add_event(
    conn: &mut Conn<'_>,
    phone_call_id: i64,
    kind: &str,
    leg: Option<&str>,
    detail: &str,
    at: i64,
) -> sqlx::Result<()> {
    let sql = "insert into call_event (phone_call_id, kind, leg, detail, created_at) values ($1, $2, $3, $4, $5)";
    on_conn!(conn, c => sqlx::query(sql).bind(phone_call_id).bind(kind).bind(leg).bind(detail).bind(at)
        .execute(&mut **c).await.map(|_| ()))
}

/// A call's timeline, oldest first.
pub async fn events(conn: &mut Conn<'_>, phone_call_id: i64) -> sqlx::Result<Vec<EventRow>> {
    let sql = "select kind, leg, detail, created_at from call_event where phone_call_id = $1 order by call_event_id";
    on_conn!(conn, c => sqlx::query_as(sql).bind(phone_call_id).fetch_all(&mut **c).await)
}

/// Registers or refreshes an engine's heartbeat.
pub async fn engine_alive(conn: &mut Conn<'_>, engine_id: &str, now: i64) -> sqlx::Result<()> {
    let sql = "insert into engine_node (engine_id, started_at, seen_at) values ($1, $2, $2) \
               on conflict (engine_id) do update set seen_at = excluded.seen_at";
    on_conn!(conn, c => sqlx::query(sql).bind(engine_id).bind(now).execute(&mut **c).await.map(|_| ()))
}

/// Live calls whose engine is not `engine_id` and has not been seen since `stale_before`
/// (or was never registered): their engine died.
pub async fn orphaned(
    conn: &mut Conn<'_>,
    engine_id: &str,
    stale_before: i64,
) -> sqlx::Result<Vec<CallRow>> {
    let columns = super::qualified(COLUMNS, "p");
    let sql = format!(
        "select {columns} from phone_call p left join engine_node e on e.engine_id = p.engine_id \
         where p.status in {LIVE} and p.engine_id <> $1 and (e.seen_at is null or e.seen_at < $2) \
         order by p.phone_call_id limit 500"
    );
    on_conn!(conn, c => sqlx::query_as(&sql).bind(engine_id).bind(stale_before).fetch_all(&mut **c).await)
}

/// One Tehran day of a tenant's calls.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DayRow {
    /// Days since 1970-01-01 in Tehran time.
    pub day: i64,
    /// Calls placed.
    pub calls: i64,
    /// Calls whose parties were connected.
    pub answered: i64,
    /// Seconds billed.
    pub billed_seconds: i64,
    /// Money spent, Rial.
    pub cost_rial: i64,
}

/// The tenant's calls per Tehran day since `from_ms` (days without calls are absent).
pub async fn per_day(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    from_ms: i64,
    offset_ms: i64,
) -> sqlx::Result<Vec<DayRow>> {
    let sql = "select (created_at + $3) / 86400000 as day, count(*) as calls, \
               cast(sum(case when bridged_at is null then 0 else 1 end) as bigint) as answered, \
               cast(coalesce(sum(billed_seconds), 0) as bigint) as billed_seconds, \
               cast(coalesce(sum(cost_rial), 0) as bigint) as cost_rial \
               from phone_call where tenant_id = $1 and created_at >= $2 \
               group by (created_at + $3) / 86400000 order by day";
    on_conn!(conn, c => sqlx::query_as(sql).bind(tenant_id).bind(from_ms).bind(offset_ms).fetch_all(&mut **c).await)
}
