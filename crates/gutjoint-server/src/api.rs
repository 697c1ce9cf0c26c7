//! The HTTP face: routes, the key check, JSON errors a person can act on, limits on bodies
//! and headers, one log line per request, and the OpenAPI document generated from the
//! handlers' types (`GET /api/v1/openapi.json`).

use crate::Service;
use crate::files::{create_private_dir, create_private_file, safe_file_name, sync_dir};
use crate::store::{AuditAction, AuditEntry, Job, JobStatus, Progress};
use axum::extract::{
    DefaultBodyLimit, FromRequestParts, Multipart, Path as UrlPath, Request, State,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use tokio::io::AsyncWriteExt;
use utoipa::{OpenApi, ToSchema};

/// Requests other than uploads carry no body worth more than this.
const SMALL_BODY: usize = 64 * 1024;

/// A refusal: an HTTP status and a sentence saying what to do.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }
    fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }
    fn internal(context: &str, error: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %error, "{context}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("{context}; the server's log has the details"),
        )
    }
    fn not_found(id: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!(
                "no job {id} for this key (jobs are visible only to the key that created them, and are deleted after the retention period)"
            ),
        )
    }
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong and what to do about it.
    pub error: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(ErrorBody {
                error: self.message,
            }),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"gutjoint\""),
            );
        }
        response
    }
}

/// The caller, identified by the name of the key it sent.
#[derive(Debug, Clone)]
pub struct Caller(pub String);

impl FromRequestParts<Arc<Service>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        service: &Arc<Service>,
    ) -> Result<Caller, ApiError> {
        let missing = || {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "send an API key as the header 'Authorization: Bearer KEY' (the server's administrator creates keys)",
            )
        };
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(missing)?
            .to_str()
            .map_err(|_| missing())?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or_else(missing)?
            .trim();
        match service.keys.verify(token) {
            Ok(Some(name)) => Ok(Caller(name)),
            Ok(None) => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "this API key is not valid (wrong, or revoked); ask the server's administrator for a key",
            )),
            Err(e) => Err(ApiError::internal("reading the key file failed", e)),
        }
    }
}

/// What `GET /healthz` says.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: String,
    pub version: String,
}

/// One job as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    pub id: String,
    pub status: JobStatus,
    /// The step running and how far it is (running jobs).
    pub progress: Option<Progress>,
    /// Why the job failed (failed jobs): the reader's or the analysis' message.
    pub error: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// Names of the tables under `/tables/{name}` (done jobs).
    pub tables: Vec<String>,
}

/// `GET /api/v1/jobs`.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobList {
    pub jobs: Vec<JobView>,
}

/// The answer to an accepted upload.
#[derive(Debug, Serialize, ToSchema)]
pub struct Submitted {
    pub id: String,
    pub status: JobStatus,
}

/// The answer to `DELETE`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Deleted {
    pub id: String,
    /// `deleted` (gone with every file) or `cancelling` (running; it stops at its next step
    /// and is then removed with every file).
    pub status: String,
}

/// The multipart form of `POST /api/v1/jobs` (for the OpenAPI document).
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct SubmitForm {
    /// The feature table: MetaPhlAn, BIOM (JSON or HDF5), QIIME 2 .qza, TSV/CSV, gzipped or not.
    #[schema(value_type = String, format = Binary)]
    table: Vec<u8>,
    /// QIIME 2 metadata TSV.
    #[schema(value_type = Option<String>, format = Binary)]
    metadata: Option<Vec<u8>>,
    /// Newick tree of the features.
    #[schema(value_type = Option<String>, format = Binary)]
    tree: Option<Vec<u8>>,
    /// The analysis config as JSON, e.g. `{"group": "diagnosis", "drugs": ["methotrexate"], "seed": 1}`.
    config: Option<String>,
}

#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "gutjoint",
        description = "Gut-microbiome analyses for inflammatory joint disease as a service. Research use only: nothing returned is a diagnosis."
    ),
    paths(health, submit, list, status, delete, report, results, table),
    components(schemas(ErrorBody, Health, JobView, JobList, Submitted, Deleted, SubmitForm, JobStatus, Progress)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

#[derive(Debug)]
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "api_key",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

/// The service's routes with their limits and the request log.
pub fn router(service: Arc<Service>) -> Router {
    let upload_limit = usize::try_from(service.limits.max_upload_bytes)
        .unwrap_or(usize::MAX)
        // Room for the multipart boundaries and the config field.
        .saturating_add(64 * 1024);
    let header_limit = service.limits.max_header_bytes;
    Router::new()
        .route("/", get(crate::page::upload_page))
        .route("/healthz", get(health))
        .route("/api/v1/openapi.json", get(openapi))
        .route(
            "/api/v1/jobs",
            get(list)
                .post(submit)
                .layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/api/v1/jobs/{id}", get(status).delete(delete))
        .route("/api/v1/jobs/{id}/report", get(report))
        .route("/api/v1/jobs/{id}/results", get(results))
        .route("/api/v1/jobs/{id}/tables/{name}", get(table))
        .fallback(not_found_route)
        .layer(DefaultBodyLimit::max(SMALL_BODY))
        .layer(axum::middleware::from_fn(
            move |req: Request, next: Next| limit_headers(req, next, header_limit),
        ))
        .layer(axum::middleware::from_fn(log_request))
        .with_state(service)
}

async fn not_found_route() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no such endpoint; the API is described at /api/v1/openapi.json",
    )
}

/// 431 when the headers together are larger than the limit (hyper's own cap is higher).
async fn limit_headers(req: Request, next: Next, limit: usize) -> Response {
    let size: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if size > limit {
        return ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!("the request's headers are {size} bytes; this server accepts at most {limit}"),
        )
        .into_response();
    }
    next.run(req).await
}

/// One structured line per request: method, path, status, time. Never headers (the key) or
/// bodies (sample data).
async fn log_request(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    tracing::info!(
        method = %method,
        path = %path,
        status = response.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    response
}

/// Liveness: no key needed.
#[utoipa::path(get, path = "/healthz", responses((status = 200, body = Health)))]
async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

/// This document.
async fn openapi() -> Response {
    match ApiDoc::openapi().to_pretty_json() {
        Ok(text) => ([(header::CONTENT_TYPE, "application/json")], text).into_response(),
        Err(e) => ApiError::internal("rendering the OpenAPI document failed", e).into_response(),
    }
}

fn view(job: &Job, tables: Vec<String>) -> JobView {
    JobView {
        id: job.id.clone(),
        status: job.status,
        progress: if job.status == JobStatus::Running {
            job.progress.clone()
        } else {
            None
        },
        error: job.error.clone(),
        created_at: job.created_at,
        started_at: job.started_at,
        finished_at: job.finished_at,
        tables,
    }
}

fn table_names(service: &Service, job: &Job) -> Vec<String> {
    if job.status != JobStatus::Done {
        return Vec::new();
    }
    let dir = service.data.output_dir(&job.id).join("tables");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter_map(|e| {
                    e.file_name()
                        .to_str()
                        .and_then(|n| n.strip_suffix(".tsv"))
                        .map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The caller's job `id`, or 404 (also for another key's job: its existence is not revealed).
async fn own_job(service: &Service, caller: &Caller, id: &str) -> Result<Job, ApiError> {
    if !crate::ids::is_job_id(id) {
        return Err(ApiError::not_found(id));
    }
    match service.store.get(id).await {
        Ok(Some(job)) if job.key_name == caller.0 => Ok(job),
        Ok(_) => Err(ApiError::not_found(id)),
        Err(e) => Err(ApiError::internal("reading the job store failed", e)),
    }
}

async fn audit(service: &Service, caller: &Caller, action: AuditAction, id: &str, detail: &str) {
    let entry = AuditEntry {
        at: crate::ids::now(),
        key_name: caller.0.clone(),
        action: action.as_str().into(),
        job_id: id.into(),
        detail: detail.into(),
    };
    if let Err(e) = service.store.audit(entry).await {
        tracing::error!(error = %e, "writing the audit log failed");
    }
    tracing::info!(target: "gutjoint::audit", key = %caller.0, action = action.as_str(), job = %id, detail, "audit");
}

/// The caller's jobs, newest first.
#[utoipa::path(get, path = "/api/v1/jobs", security(("api_key" = [])),
    responses((status = 200, body = JobList), (status = 401, body = ErrorBody)))]
async fn list(
    State(service): State<Arc<Service>>,
    caller: Caller,
) -> Result<Json<JobList>, ApiError> {
    let jobs = service
        .store
        .list(&caller.0)
        .await
        .map_err(|e| ApiError::internal("reading the job store failed", e))?;
    Ok(Json(JobList {
        jobs: jobs
            .iter()
            .map(|j| view(j, table_names(&service, j)))
            .collect(),
    }))
}

/// A job's status and progress.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", security(("api_key" = [])),
    params(("id" = String, Path, description = "job id")),
    responses((status = 200, body = JobView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn status(
    State(service): State<Arc<Service>>,
    caller: Caller,
    UrlPath(id): UrlPath<String>,
) -> Result<Json<JobView>, ApiError> {
    let job = own_job(&service, &caller, &id).await?;
    let tables = table_names(&service, &job);
    Ok(Json(view(&job, tables)))
}

/// Cancels a running job or deletes a finished or queued one, with every file.
#[utoipa::path(delete, path = "/api/v1/jobs/{id}", security(("api_key" = [])),
    params(("id" = String, Path, description = "job id")),
    responses((status = 200, body = Deleted, description = "deleted with every file"),
               (status = 202, body = Deleted, description = "running: stops at its next step, then is deleted"),
               (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete(
    State(service): State<Arc<Service>>,
    caller: Caller,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    let job = own_job(&service, &caller, &id).await?;
    audit(
        &service,
        &caller,
        AuditAction::Delete,
        &id,
        job.status.as_str(),
    )
    .await;
    if job.status == JobStatus::Running {
        let now = service
            .store
            .request_cancel(&id)
            .await
            .map_err(|e| ApiError::internal("cancelling the job failed", e))?;
        if now == Some(JobStatus::Running) {
            tracing::info!(job = %id, key = %caller.0, "job cancel requested");
            return Ok((
                StatusCode::ACCEPTED,
                Json(Deleted {
                    id,
                    status: "cancelling".into(),
                }),
            )
                .into_response());
        }
    }
    // Record first, so no worker claims it while its files go.
    service
        .store
        .delete(&id)
        .await
        .map_err(|e| ApiError::internal("deleting the job failed", e))?;
    service
        .data
        .remove_job(&id)
        .map_err(|e| ApiError::internal("deleting the job's files failed", e))?;
    tracing::info!(job = %id, key = %caller.0, from = job.status.as_str(), to = "deleted", "job transition");
    Ok(Json(Deleted {
        id,
        status: "deleted".into(),
    })
    .into_response())
}

async fn output_file(
    service: &Service,
    caller: &Caller,
    id: &str,
    relative: &Path,
    detail: &str,
    content_type: &'static str,
) -> Result<Response, ApiError> {
    let job = own_job(service, caller, id).await?;
    match job.status {
        JobStatus::Done => {}
        JobStatus::Failed => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!(
                    "job {id} failed, so it has no outputs: {}",
                    job.error.as_deref().unwrap_or("no message")
                ),
            ));
        }
        other => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!(
                    "job {id} is {}; its outputs exist once it is done (poll /api/v1/jobs/{id})",
                    other.as_str()
                ),
            ));
        }
    }
    let path = service.data.output_dir(id).join(relative);
    let bytes = match tokio::fs::read(&path).await {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                format!("job {id} has no {detail}"),
            ));
        }
        Err(e) => return Err(ApiError::internal("reading a job's output failed", e)),
    };
    audit(service, caller, AuditAction::Read, id, detail).await;
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok((headers, bytes).into_response())
}

/// The self-contained HTML report.
#[utoipa::path(get, path = "/api/v1/jobs/{id}/report", security(("api_key" = [])),
    params(("id" = String, Path, description = "job id")),
    responses((status = 200, content_type = "text/html", description = "the report"),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "not done")))]
async fn report(
    State(service): State<Arc<Service>>,
    caller: Caller,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    output_file(
        &service,
        &caller,
        &id,
        Path::new("report.html"),
        "report",
        "text/html; charset=utf-8",
    )
    .await
}

/// The typed results (results.json).
#[utoipa::path(get, path = "/api/v1/jobs/{id}/results", security(("api_key" = [])),
    params(("id" = String, Path, description = "job id")),
    responses((status = 200, content_type = "application/json", description = "results.json"),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "not done")))]
async fn results(
    State(service): State<Arc<Service>>,
    caller: Caller,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    output_file(
        &service,
        &caller,
        &id,
        Path::new("results.json"),
        "results",
        "application/json",
    )
    .await
}

/// One result table as TSV (names listed in the job's `tables`).
#[utoipa::path(get, path = "/api/v1/jobs/{id}/tables/{name}", security(("api_key" = [])),
    params(("id" = String, Path, description = "job id"), ("name" = String, Path, description = "table name, with or without .tsv")),
    responses((status = 200, content_type = "text/tab-separated-values", description = "the table"),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "not done")))]
async fn table(
    State(service): State<Arc<Service>>,
    caller: Caller,
    UrlPath((id, name)): UrlPath<(String, String)>,
) -> Result<Response, ApiError> {
    let stem = name.strip_suffix(".tsv").unwrap_or(&name);
    let safe = !stem.is_empty()
        && !stem.starts_with('.')
        && stem
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if !safe {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no table {name:?}; the job's `tables` lists the names"),
        ));
    }
    let relative = PathBuf::from("tables").join(format!("{stem}.tsv"));
    output_file(
        &service,
        &caller,
        &id,
        &relative,
        &format!("table {stem}"),
        "text/tab-separated-values; charset=utf-8",
    )
    .await
}

/// Submits a job: multipart fields `table` (file), optional `metadata` and `tree` files and
/// `config` (JSON). The files are checked by gutjoint's readers before the job is accepted.
#[utoipa::path(post, path = "/api/v1/jobs", security(("api_key" = [])),
    request_body(content = SubmitForm, content_type = "multipart/form-data"),
    responses((status = 202, body = Submitted, description = "recorded and queued"),
              (status = 400, body = ErrorBody, description = "a file no reader accepts, or a bad config"),
              (status = 401, body = ErrorBody),
              (status = 413, body = ErrorBody, description = "upload or table over the limits"),
              (status = 429, body = ErrorBody, description = "too many active jobs for this key"),
              (status = 503, body = ErrorBody, description = "shutting down")))]
async fn submit(
    State(service): State<Arc<Service>>,
    caller: Caller,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, ApiError> {
    if *service.shutting_down.borrow() {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is shutting down; submit again in a moment",
        ));
    }
    let mut multipart = multipart.map_err(|e| {
        ApiError::bad_request(format!(
            "send the job as multipart/form-data with a `table` file ({e})"
        ))
    })?;
    let limit = service.limits.max_active_jobs_per_key;
    let too_many = || {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "this key has {limit} jobs queued or running, the most this server allows at once; wait for one to finish or delete one"
            ),
        )
    };
    // Cheap early refusal before reading the body; the store enforces it atomically below.
    let active = service
        .store
        .list(&caller.0)
        .await
        .map_err(|e| ApiError::internal("reading the job store failed", e))?
        .iter()
        .filter(|j| matches!(j.status, JobStatus::Queued | JobStatus::Running))
        .count() as u64;
    if active >= limit {
        return Err(too_many());
    }

    let upload = service
        .data
        .new_upload_dir()
        .map_err(|e| ApiError::internal("creating the upload folder failed", e))?;
    let stored = receive(&service, &mut multipart, &upload).await;
    let stored = match stored {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&upload);
            return Err(e);
        }
    };
    let checked = check_upload(&service, &stored, &upload).await;
    if let Err(e) = checked {
        let _ = std::fs::remove_dir_all(&upload);
        return Err(e);
    }
    let id = crate::ids::job_id().map_err(|e| ApiError::internal("making a job id failed", e))?;
    if let Err(e) = service.data.commit_upload(&upload, &id) {
        let _ = std::fs::remove_dir_all(&upload);
        return Err(ApiError::internal("storing the upload failed", e));
    }
    let job = Job {
        id: id.clone(),
        key_name: caller.0.clone(),
        status: JobStatus::Queued,
        config: stored.config.to_string(),
        progress: None,
        error: None,
        created_at: crate::ids::now(),
        started_at: None,
        finished_at: None,
        cancel_requested: false,
        attempts: 0,
    };
    match service.store.insert(job, limit).await {
        Ok(true) => {}
        Ok(false) => {
            let _ = service.data.remove_job(&id);
            return Err(too_many());
        }
        Err(e) => {
            let _ = service.data.remove_job(&id);
            return Err(ApiError::internal("recording the job failed", e));
        }
    }
    audit(&service, &caller, AuditAction::Create, &id, "upload").await;
    tracing::info!(job = %id, key = %caller.0, from = "new", to = "queued", "job transition");
    service.job_added.notify_one();
    let mut response = (
        StatusCode::ACCEPTED,
        Json(Submitted {
            id: id.clone(),
            status: JobStatus::Queued,
        }),
    )
        .into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/jobs/{id}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// What an upload brought.
struct Stored {
    table: Option<PathBuf>,
    metadata: Option<PathBuf>,
    tree: Option<PathBuf>,
    config: serde_json::Value,
}

fn multipart_error(e: axum::extract::multipart::MultipartError, max: u64) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large(max)
    } else {
        ApiError::bad_request(format!(
            "the upload could not be read as multipart/form-data: {e}"
        ))
    }
}

fn too_large(max: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "the upload is larger than this server's limit of {} MB; gzip the table or ask the administrator",
            max / (1024 * 1024)
        ),
    )
}

/// Streams the multipart fields into private files under `upload` (counting bytes).
async fn receive(
    service: &Service,
    multipart: &mut Multipart,
    upload: &Path,
) -> Result<Stored, ApiError> {
    let max = service.limits.max_upload_bytes;
    let mut total: u64 = 0;
    let mut stored = Stored {
        table: None,
        metadata: None,
        tree: None,
        config: serde_json::Value::Object(Default::default()),
    };
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_error(e, max))?
    {
        let name = field.name().unwrap_or("").to_string();
        match name.as_str() {
            "table" | "metadata" | "tree" => {
                let slot = match name.as_str() {
                    "table" => &mut stored.table,
                    "metadata" => &mut stored.metadata,
                    _ => &mut stored.tree,
                };
                if slot.is_some() {
                    return Err(ApiError::bad_request(format!(
                        "the field `{name}` was sent twice; send one file per field"
                    )));
                }
                let dir = upload.join(&name);
                create_private_dir(&dir)
                    .map_err(|e| ApiError::internal("creating the upload folder failed", e))?;
                let path = dir.join(safe_file_name(field.file_name(), &name));
                let file = create_private_file(&path)
                    .map_err(|e| ApiError::internal("storing the upload failed", e))?;
                let mut file = tokio::fs::File::from_std(file);
                let mut bytes: u64 = 0;
                while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(e, max))? {
                    total += chunk.len() as u64;
                    bytes += chunk.len() as u64;
                    if total > max {
                        return Err(too_large(max));
                    }
                    file.write_all(&chunk)
                        .await
                        .map_err(|e| ApiError::internal("storing the upload failed", e))?;
                }
                if bytes == 0 {
                    return Err(ApiError::bad_request(format!("the `{name}` file is empty")));
                }
                file.sync_all()
                    .await
                    .map_err(|e| ApiError::internal("storing the upload failed", e))?;
                sync_dir(&dir);
                *slot = Some(path);
            }
            "config" => {
                let text = field.text().await.map_err(|e| multipart_error(e, max))?;
                total += text.len() as u64;
                if !text.trim().is_empty() {
                    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
                        ApiError::bad_request(format!(
                            "`config` is not valid JSON: {e}; expected an object such as {{\"group\": \"diagnosis\", \"drugs\": [\"methotrexate\"], \"seed\": 1}}"
                        ))
                    })?;
                    if !value.is_object() {
                        return Err(ApiError::bad_request(
                            "`config` must be a JSON object such as {\"group\": \"diagnosis\", \"seed\": 1}",
                        ));
                    }
                    stored.config = value;
                }
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown form field `{other}`; expected table, metadata, tree and config"
                )));
            }
        }
    }
    Ok(stored)
}

/// Reads the upload as the analysis will: a file no reader accepts is refused with the
/// reader's message (file, line, expectation); a table over the cell limit is refused.
async fn check_upload(service: &Service, stored: &Stored, upload: &Path) -> Result<(), ApiError> {
    let Some(table) = stored.table.clone() else {
        return Err(ApiError::bad_request(
            "no `table` file: send the feature table as the multipart field `table`",
        ));
    };
    service
        .analysis
        .check_config(&stored.config)
        .map_err(|m| ApiError::bad_request(format!("`config`: {m}")))?;
    let inputs = crate::runner::JobInputs {
        table,
        metadata: stored.metadata.clone(),
        tree: stored.tree.clone(),
        config: stored.config.clone(),
    };
    let analysis = Arc::clone(&service.analysis);
    let shape = tokio::task::spawn_blocking(move || analysis.check_inputs(&inputs))
        .await
        .map_err(|e| ApiError::internal("checking the upload failed", e))?
        .map_err(|m| ApiError::bad_request(crate::worker::without_paths(&m, &[upload])))?;
    let cells = shape.samples.saturating_mul(shape.features);
    if cells > service.limits.max_cells {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the table has {} samples × {} features = {cells} cells; this server accepts at most {}",
                shape.samples, shape.features, service.limits.max_cells
            ),
        ));
    }
    Ok(())
}
