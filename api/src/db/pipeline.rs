//! Compiled reads pipelined: the statements of concurrent requests share a few
//! connections per worker thread, each sent without waiting for the answers to those
//! before it.
//!
//! A pooled (sqlx) connection carries one statement at a time: every read costs a
//! wake-up of the service and of a PostgreSQL backend, and with reads of a fraction of
//! a millisecond those wake-ups are most of the work. On a tokio-postgres connection,
//! statements sent while others are in flight go out together and their answers come
//! back together: the backend reads several at once, and the service is woken once for
//! several answers. A compiled read is one statement over bound values, answered by
//! one text value, and is safe to pipeline: it reads in a transaction of its own.
//!
//! Each worker thread opens its own connections, when it first needs them, on its own
//! runtime (a connection is driven by the runtime that opened it). The pipeline is a
//! way to the same database as the pool, with the same session (time zone, date style,
//! float digits, `statement_timeout`, `plan_cache_mode`): wherever it cannot answer (a
//! value of a type it does not bind, a connection lost or being opened, any error), the
//! read goes to the pool, which answers, or fails, as it would have without it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::sea_query::ArrayType;
use sea_orm::sqlx::postgres::{PgConnectOptions, PgPool, PgSslMode};
use sea_orm::{Statement, Value};
use tokio_postgres::types::{ToSql, Type};

/// Statements kept prepared on each connection (compiled documents come in a few
/// hundred shapes at most: the compiler keeps 512 documents).
const PREPARED: usize = 256;

/// How long a connection that could not be opened leaves its place to the pool before
/// it is tried again; twice as long after each failure in a row, up to [`RETRY_AT_MOST`].
const RETRY_AFTER: Duration = Duration::from_secs(1);
const RETRY_AT_MOST: Duration = Duration::from_secs(60);

/// What the pipelined connections add to the pool's `application_name`.
pub const APPLICATION_SUFFIX: &str = "pipeline";

/// The way to one database for compiled reads; cheap to clone.
#[derive(Clone)]
pub struct Pipeline(Arc<Shared>);

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("connections", &self.0.connections)
            .finish()
    }
}

struct Shared {
    /// The key of this pipeline's connections in each thread.
    id: u64,
    /// The pool's connect options are read at each connection, so that the pipeline
    /// follows the pool where it goes (an embedded cluster restarted on another port).
    pool: PgPool,
    /// The URL's password (sqlx does not give its own back).
    password: Option<String>,
    /// Connections per thread.
    connections: usize,
    /// What is SET once connected, behind a pooler (see [`super::session_settings`]).
    settings: Option<String>,
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// This thread's connections, by pipeline.
    static LOCAL: RefCell<HashMap<u64, Vec<Place>>> = RefCell::new(HashMap::new());
}

enum Place {
    /// To be opened (again from `retry_at`, after `failures` in a row).
    Empty {
        retry_at: Option<Instant>,
        failures: u32,
    },
    /// Being opened, after `failures` in a row (kept for its outcome).
    Connecting,
    Ready(Arc<Connection>),
}

struct Connection {
    client: tokio_postgres::Client,
    /// Reads sent and not yet answered.
    in_flight: AtomicUsize,
    prepared: Mutex<lru::LruCache<String, tokio_postgres::Statement>>,
}

impl Pipeline {
    /// A pipeline to the database `pool` connects to (`url` being the URL it was made
    /// from), with `connections` per thread; `None` when there are none, or when the
    /// URL asks for a certificate check (`sslmode=verify-ca`/`verify-full`), which is
    /// left to the pool.
    pub fn new(
        url: &str,
        pool: &PgPool,
        connections: usize,
        settings: Option<String>,
    ) -> Option<Self> {
        if connections == 0 {
            return None;
        }
        let options = pool.connect_options();
        let tls = match options.get_ssl_mode() {
            PgSslMode::Disable | PgSslMode::Allow => None,
            PgSslMode::Prefer | PgSslMode::Require => Some(encrypting_without_verifying()?),
            PgSslMode::VerifyCa | PgSslMode::VerifyFull => {
                tracing::info!(
                    "compiled reads use the pool: the database URL asks for a certificate check"
                );
                return None;
            }
        };
        let password = password_in(url).or_else(|| std::env::var("PGPASSWORD").ok());
        Some(Self(Arc::new(Shared {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            pool: pool.clone(),
            password,
            connections,
            settings,
            tls,
        })))
    }

    /// Runs `statement`, whose answer is one row of one text column, on this thread's
    /// next connection: `Some` with the text (or `None` where no row came back), or
    /// `None` where the pipeline did not answer and the pool is to.
    pub async fn text(&self, statement: &Statement) -> Option<Option<String>> {
        let values = statement.values.as_ref().map_or(&[][..], |v| &v.0[..]);
        let Some(params) = values.iter().map(param).collect::<Option<Vec<_>>>() else {
            crate::metrics::metrics().pipelined(false);
            return None;
        };
        let connection = self.connection().await?;
        let started = Instant::now();
        let result = connection.query(&statement.sql, &params).await;
        crate::metrics::metrics().sql_statement(&sea_orm::metric::Info {
            elapsed: started.elapsed(),
            statement,
            failed: result.is_err(),
        });
        crate::metrics::metrics().pipelined(result.is_ok());
        match result {
            Ok(text) => Some(text),
            Err(error) => {
                tracing::debug!(%error, "a pipelined read failed; the pool answers it");
                None
            }
        }
    }

    /// The connection of this thread for the next read: an idle one; else one opened
    /// now, if a place is free; else the one with the fewest reads in flight (a slow
    /// read holds up those queued behind it on its connection). `None` when every
    /// place is being opened, or waits to be tried again.
    async fn connection(&self) -> Option<Arc<Connection>> {
        let id = self.0.id;
        let place = LOCAL.with(|local| {
            let mut local = local.borrow_mut();
            let places = local.entry(id).or_insert_with(|| {
                (0..self.0.connections)
                    .map(|_| Place::Empty {
                        retry_at: None,
                        failures: 0,
                    })
                    .collect()
            });
            let now = Instant::now();
            let (mut least, mut free) = (None::<(usize, &Arc<Connection>)>, None);
            for (index, place) in places.iter().enumerate() {
                match place {
                    Place::Ready(c) if !c.client.is_closed() => {
                        let load = c.in_flight.load(Ordering::Relaxed);
                        if least.is_none_or(|(l, _)| load < l) {
                            least = Some((load, c));
                        }
                    }
                    Place::Connecting => {}
                    Place::Empty {
                        retry_at: Some(at), ..
                    } if now < *at => {}
                    Place::Empty { failures, .. } => free = free.or(Some((index, *failures))),
                    // Lost: opened again.
                    Place::Ready(_) => free = free.or(Some((index, 0))),
                }
            }
            match (least, free) {
                (Some((0, c)), _) | (Some((_, c)), None) => Ok(c.clone()),
                (_, Some((index, failures))) => {
                    places[index] = Place::Connecting;
                    Err(Some((index, failures)))
                }
                (None, None) => Err(None),
            }
        });
        let place = match place {
            Ok(connection) => return Some(connection),
            Err(None) => return None,
            Err(Some(place)) => place,
        };
        let (place, failures) = place;
        // The place is ours to fill; if this request is dropped meanwhile, the guard
        // empties it again.
        let mut guard = Opening {
            id,
            place,
            outcome: Place::Empty {
                retry_at: None,
                failures,
            },
        };
        match self.connect().await {
            Ok(connection) => {
                let connection = Arc::new(connection);
                guard.outcome = Place::Ready(connection.clone());
                Some(connection)
            }
            Err(error) => {
                // Said once, not at every try while the database stays out of reach.
                if failures == 0 {
                    tracing::warn!(%error, "cannot open a connection for pipelined reads; the pool answers meanwhile");
                } else {
                    tracing::debug!(%error, failures, "cannot open a connection for pipelined reads");
                }
                let wait = RETRY_AFTER
                    .saturating_mul(1 << failures.min(6))
                    .min(RETRY_AT_MOST);
                guard.outcome = Place::Empty {
                    retry_at: Some(Instant::now() + wait),
                    failures: failures.saturating_add(1),
                };
                None
            }
        }
    }

    async fn connect(&self) -> Result<Connection, tokio_postgres::Error> {
        let config = self.config(&self.0.pool.connect_options());
        let client = match &self.0.tls {
            None => spawn(config.connect(tokio_postgres::NoTls).await?),
            Some(tls) => spawn(config.connect(tls.clone()).await?),
        };
        // The session the pool's connections have (sqlx sends these at startup).
        let mut session =
            "SET DateStyle = 'ISO, MDY'; SET TimeZone = 'UTC'; SET extra_float_digits = 2"
                .to_owned();
        if let Some(settings) = &self.0.settings {
            session.push_str("; ");
            session.push_str(settings);
        }
        client.batch_execute(&session).await?;
        Ok(Connection {
            client,
            in_flight: AtomicUsize::new(0),
            prepared: Mutex::new(lru::LruCache::new(
                NonZeroUsize::new(PREPARED).unwrap_or(NonZeroUsize::MIN),
            )),
        })
    }

    fn config(&self, options: &PgConnectOptions) -> tokio_postgres::Config {
        let mut config = tokio_postgres::Config::new();
        match options.get_socket() {
            Some(dir) => config.host_path(dir),
            None => config.host(options.get_host()),
        };
        config
            .port(options.get_port())
            .user(options.get_username())
            .connect_timeout(Duration::from_secs(10))
            .ssl_mode(match options.get_ssl_mode() {
                PgSslMode::Require => tokio_postgres::config::SslMode::Require,
                PgSslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
                _ => tokio_postgres::config::SslMode::Disable,
            });
        if let Some(database) = options.get_database() {
            config.dbname(database);
        }
        if let Some(password) = &self.0.password {
            config.password(password);
        }
        // Told apart from the pool's in `pg_stat_activity`.
        let name = options.get_application_name().unwrap_or("claimtrack");
        config.application_name(format!("{name} {APPLICATION_SUFFIX}"));
        // `statement_timeout` and `plan_cache_mode`, unless a pooler stands between
        // (then they are in `settings`).
        if let Some(startup) = options.get_options() {
            config.options(startup);
        }
        config
    }
}

/// The password of a database URL, percent-decoded as libpq and sqlx decode it.
fn password_in(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    let password = url.password()?;
    let decoded = percent_encoding::percent_decode_str(password).decode_utf8();
    Some(decoded.map_or_else(|_| password.to_owned(), |p| p.into_owned()))
}

/// Drives a new connection on the calling runtime; returns its client.
fn spawn<S, T>(
    (client, connection): (tokio_postgres::Client, tokio_postgres::Connection<S, T>),
) -> tokio_postgres::Client
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!(%error, "a pipelined connection ended");
        }
    });
    client
}

/// Fills a place being opened with the outcome (empty, if the opening request went
/// away before it ended).
struct Opening {
    id: u64,
    place: usize,
    outcome: Place,
}

impl Drop for Opening {
    fn drop(&mut self) {
        let empty = Place::Empty {
            retry_at: None,
            failures: 0,
        };
        let outcome = std::mem::replace(&mut self.outcome, empty);
        // (Gone already when the thread is ending.)
        let _ = LOCAL.try_with(|local| {
            if let Some(place) = local
                .borrow_mut()
                .get_mut(&self.id)
                .and_then(|p| p.get_mut(self.place))
            {
                *place = outcome;
            }
        });
    }
}

impl Connection {
    async fn query(
        &self,
        sql: &str,
        params: &[Param],
    ) -> Result<Option<String>, tokio_postgres::Error> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        let _answered = Answered(&self.in_flight);
        let types: Vec<Type> = params.iter().map(|p| p.0.clone()).collect();
        let known = self
            .prepared
            .lock()
            .ok()
            .and_then(|mut p| p.get(sql).filter(|s| s.params() == types).cloned());
        let statement = match known {
            Some(statement) => statement,
            None => {
                let statement = self.client.prepare_typed(sql, &types).await?;
                if let Ok(mut prepared) = self.prepared.lock() {
                    prepared.put(sql.to_owned(), statement.clone());
                }
                statement
            }
        };
        let values: Vec<&(dyn ToSql + Sync)> = params
            .iter()
            .map(|p| &*p.1 as &(dyn ToSql + Sync))
            .collect();
        match self.client.query_opt(&statement, &values).await {
            Ok(row) => Ok(row.and_then(|r| r.get::<_, Option<String>>(0))),
            Err(error) => {
                // Prepared again next time: a statement that failed may be stale (a
                // migration changed what it reads: "cached plan must not change
                // result type"), and would fail every time.
                if let Ok(mut prepared) = self.prepared.lock() {
                    prepared.pop(sql);
                }
                Err(error)
            }
        }
    }
}

/// Counts a read out of its connection's reads in flight when it ends (answered,
/// failed, or dropped).
struct Answered<'a>(&'a AtomicUsize);

impl Drop for Answered<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A value bound as sqlx binds it: its PostgreSQL type, and its encoder.
struct Param(Type, Box<dyn ToSql + Sync + Send>);

fn bound<T: ToSql + Sync + Send + 'static>(ty: Type, value: T) -> Param {
    Param(ty, Box::new(value))
}

/// The parameter for a value, typed as sqlx types it (see `sea-query-sqlx`); `None`
/// for the kinds compiled reads never bind, which are left to the pool.
fn param(value: &Value) -> Option<Param> {
    Some(match value {
        Value::Bool(v) => bound(Type::BOOL, *v),
        Value::SmallInt(v) => bound(Type::INT2, *v),
        Value::Int(v) => bound(Type::INT4, *v),
        Value::BigInt(v) => bound(Type::INT8, *v),
        Value::TinyUnsigned(v) => bound(Type::INT2, v.map(i16::from)),
        Value::SmallUnsigned(v) => bound(Type::INT4, v.map(i32::from)),
        Value::Unsigned(v) => bound(Type::INT8, v.map(i64::from)),
        Value::BigUnsigned(v) => bound(Type::INT8, v.map(i64::try_from).transpose().ok()?),
        Value::Float(v) => bound(Type::FLOAT4, *v),
        Value::Double(v) => bound(Type::FLOAT8, *v),
        Value::String(v) => bound(Type::TEXT, v.clone()),
        Value::Char(v) => bound(Type::TEXT, v.map(String::from)),
        Value::Bytes(v) => bound(Type::BYTEA, v.clone()),
        Value::Json(v) => bound(Type::JSONB, v.as_deref().cloned()),
        Value::ChronoDate(v) => bound(Type::DATE, *v),
        Value::ChronoTime(v) => bound(Type::TIME, *v),
        Value::ChronoDateTime(v) => bound(Type::TIMESTAMP, *v),
        Value::ChronoDateTimeUtc(v) => bound(Type::TIMESTAMPTZ, *v),
        Value::ChronoDateTimeWithTimeZone(v) => bound(Type::TIMESTAMPTZ, *v),
        Value::Uuid(v) => bound(Type::UUID, *v),
        Value::Array(ty, items) => array(ty, items.as_deref())?,
        _ => return None,
    })
}

fn array(ty: &ArrayType, items: Option<&Vec<Value>>) -> Option<Param> {
    /// The array's items of one kind, none of them null (as sqlx binds them), bound
    /// as an array of `$ty`; `None` (from `array`) on any other item.
    macro_rules! of {
        ($ty:expr, $kind:ident) => {{
            let items = match items {
                None => None,
                Some(items) => Some(
                    items
                        .iter()
                        .map(|v| match v {
                            Value::$kind(item) => item.clone(),
                            _ => None,
                        })
                        .collect::<Option<Vec<_>>>()?,
                ),
            };
            bound($ty, items)
        }};
    }
    Some(match ty {
        ArrayType::Bool => of!(Type::BOOL_ARRAY, Bool),
        ArrayType::SmallInt => of!(Type::INT2_ARRAY, SmallInt),
        ArrayType::Int => of!(Type::INT4_ARRAY, Int),
        ArrayType::BigInt => of!(Type::INT8_ARRAY, BigInt),
        ArrayType::String => of!(Type::TEXT_ARRAY, String),
        ArrayType::Uuid => of!(Type::UUID_ARRAY, Uuid),
        ArrayType::ChronoDate => of!(Type::DATE_ARRAY, ChronoDate),
        _ => return None,
    })
}

/// TLS as sqlx makes it for `sslmode=prefer` and `require`: encrypted, the server's
/// certificate not checked (libpq's meaning of those modes).
fn encrypting_without_verifying() -> Option<tokio_postgres_rustls::MakeRustlsConnect> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .ok()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Unverified(provider)))
        .with_no_client_auth();
    Some(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// Accepts any certificate; the handshake's signatures are still checked.
#[derive(Debug)]
struct Unverified(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::password_in;

    #[test]
    fn the_password_is_read_from_the_url_percent_decoded() {
        let url = "postgres://ct:p%40ss%3Aw%2Frd@db.example:5432/claimtrack?sslmode=require";
        assert_eq!(password_in(url).as_deref(), Some("p@ss:w/rd"));
        assert_eq!(
            password_in("postgres://ct:plain@localhost/ct").as_deref(),
            Some("plain")
        );
        assert_eq!(password_in("postgres://ct@localhost/ct"), None);
        assert_eq!(password_in("not a url"), None);
    }
}
