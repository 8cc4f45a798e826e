//! Effective configuration, layered with figment.
//!
//! Precedence, lowest first: built-in defaults → the TOML file (`--config`,
//! default `/etc/decnet/profiler.toml`, optional) → DECNET's INI
//! (`$DECNET_CONFIG`, default `/etc/decnet/decnet.ini`, optional; below
//! DECNET's real variables as in DECNET itself) → DECNET's own variables
//! (`DECNET_DB_*`, `DECNET_ARTIFACTS_ROOT`, `DECNET_BUS_*`, contracts.md §7, so
//! a DECNET host needs no new settings) → `DECNET_PROFILER__SECTION__KEY` →
//! command-line flags. `config/profiler.toml` documents every key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile as FigProfile, Provider};
use serde::{Deserialize, Serialize};

/// Default location of the TOML file.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/decnet/profiler.toml";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub database: DatabaseConfig,
    pub artifacts: ArtifactsConfig,
    pub engine: EngineConfig,
    pub attackers: AttackersConfig,
    pub poll: PollConfig,
    pub bus: BusConfig,
    pub log: LogConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite`, `mysql` (MariaDB) or `postgres`; empty = from the URL's
    /// scheme, else `sqlite`.
    pub backend: String,
    /// Full URL; wins over path/host/port/name/user/password.
    pub url: String,
    /// SQLite file (DECNET has no variable for its SQLite file).
    pub path: PathBuf,
    pub host: String,
    /// 0 = the backend's default port.
    pub port: u16,
    pub name: String,
    pub user: String,
    pub password: String,
    /// `own` (standalone: migrate) or `decnet` (verify only, never create).
    pub schema: String,
    pub max_connections: u32,
    pub busy_timeout_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArtifactsConfig {
    pub root: PathBuf,
    /// Watch the root with inotify to pre-warm shard indexes (a hint only).
    pub watch: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineConfig {
    /// Engine profile name (`decnet-1.2`, …).
    pub profile: String,
    /// The `source` written on every observation.
    pub source: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttackersConfig {
    /// `create` (standalone) or `wait` (DECNET creates attacker rows).
    pub mode: String,
    /// A deferred session is given up after this many seconds.
    pub max_wait_s: u64,
    pub retry_initial_s: u64,
    pub retry_max_s: u64,
    /// `state` key holding the deferred set.
    pub deferred_key: String,
    /// Bound on the deferred set's size.
    pub deferred_max: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PollConfig {
    pub enabled: bool,
    pub interval_s: u64,
    pub batch: u32,
    /// Rows of a batch handled at the same time (the cursor still only
    /// passes a row once every row before it is done).
    pub concurrency: usize,
    /// Our cursor's `state` key, distinct from the Python worker's.
    pub cursor_key: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusConfig {
    pub enabled: bool,
    pub socket: PathBuf,
    /// Our name on `system.<worker>.health|control`; not the Python
    /// profiler's `profiler`.
    pub worker: String,
    /// Bus sessions handled at the same time.
    pub concurrency: usize,
    /// Bus sessions waiting for a worker (beyond: left to the poll path).
    pub queue: usize,
    /// Heartbeat period (DECNET: 30 s; the dashboard's "ok" window is 90 s).
    pub heartbeat_s: u64,
    /// How long start-up waits for the bus before READY=1 anyway.
    pub ready_timeout_s: u64,
    /// How long shutdown waits for the sessions in hand.
    pub drain_s: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// tracing filter directive (`info`, `decnet_profiler=debug`, …).
    pub level: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database: DatabaseConfig {
                backend: String::new(),
                url: String::new(),
                path: PathBuf::from("/var/lib/decnet-profiler/profiler.db"),
                host: "localhost".into(),
                port: 0,
                name: "decnet".into(),
                user: "decnet".into(),
                password: String::new(),
                schema: "own".into(),
                max_connections: 4,
                busy_timeout_ms: 30_000,
            },
            artifacts: ArtifactsConfig {
                root: PathBuf::from("/var/lib/decnet/artifacts"),
                watch: true,
            },
            engine: EngineConfig {
                profile: decnet_engine::Profile::default().name().into(),
                source: decnet_engine::DEFAULT_SOURCE.into(),
            },
            attackers: AttackersConfig {
                mode: "create".into(),
                max_wait_s: 3600,
                retry_initial_s: 30,
                retry_max_s: 600,
                deferred_key: "decnet_profiler_deferred".into(),
                deferred_max: 10_000,
            },
            poll: PollConfig {
                enabled: true,
                interval_s: 30,
                batch: 500,
                concurrency: 4,
                cursor_key: "decnet_profiler_session_cursor".into(),
            },
            bus: BusConfig {
                enabled: true,
                socket: PathBuf::from("/run/decnet/bus.sock"),
                worker: crate::health::heartbeat::DEFAULT_WORKER.into(),
                concurrency: 4,
                queue: 1024,
                heartbeat_s: 30,
                ready_timeout_s: 10,
                drain_s: 20,
            },
            log: LogConfig {
                level: "info".into(),
            },
        }
    }
}

/// Which database engine a URL talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Mysql,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Mysql => "mysql",
            Backend::Postgres => "postgres",
        }
    }
    fn parse(s: &str) -> Option<Backend> {
        match s.to_ascii_lowercase().as_str() {
            "sqlite" => Some(Backend::Sqlite),
            "mysql" | "mariadb" => Some(Backend::Mysql),
            "postgres" | "postgresql" | "pg" => Some(Backend::Postgres),
            _ => None,
        }
    }
    fn from_url(url: &str) -> Option<Backend> {
        let scheme = url.split(':').next()?;
        let base = scheme.split('+').next()?;
        Backend::parse(base)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaMode {
    /// Standalone: we migrate and own the tables.
    Own,
    /// DECNET's Alembic owns the schema: verify, never create or alter.
    Decnet,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttackerMode {
    Create,
    Wait,
}

/// The validated database settings the store needs.
#[derive(Debug, Clone)]
pub struct DbSettings {
    pub backend: Backend,
    /// A URL sqlx accepts (driver suffixes such as `+asyncmy` removed).
    pub url: String,
    pub schema: SchemaMode,
    pub max_connections: u32,
    pub busy_timeout_ms: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Figment(#[from] Box<figment::Error>),
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// Command-line overrides (the top layer). `None` = not given.
#[derive(Debug, Default, Clone)]
pub struct CliOverrides {
    pub database_url: Option<String>,
    pub artifacts_root: Option<PathBuf>,
    pub profile: Option<String>,
    pub schema: Option<String>,
    pub attackers: Option<String>,
    pub log_level: Option<String>,
}

/// A config file and the layers above it.
pub struct Loaded {
    pub figment: Figment,
    pub config: Config,
}

/// Builds the layered figment. `config_path` None = the default path, which
/// may be absent; an explicit path must exist.
pub fn figment(
    config_path: Option<&Path>,
    cli: &CliOverrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Figment, ConfigError> {
    let mut fig = Figment::from(Serialized::defaults(Config::default()));
    match config_path {
        Some(p) => {
            if !p.is_file() {
                return Err(ConfigError::Invalid(format!(
                    "config file {} does not exist",
                    p.display()
                )));
            }
            fig = fig.merge(Toml::file_exact(p));
        }
        None => fig = fig.merge(Toml::file(DEFAULT_CONFIG_PATH)),
    }
    // DECNET's INI sits below DECNET's real variables (it only seeds them
    // with setdefault in DECNET, contracts.md §7).
    let ini_path = env("DECNET_CONFIG")
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| DEFAULT_DECNET_INI.to_string());
    if let Some(ini) = read_decnet_ini(Path::new(&ini_path)) {
        let lookup = |k: &str| ini.get(k).cloned();
        let mut layer = DecnetEnv::from_env(&lookup);
        layer.name = format!("DECNET INI ({ini_path})");
        fig = fig.merge(layer);
    }
    fig = fig.merge(DecnetEnv::from_env(env));
    fig = fig.merge(Env::prefixed("DECNET_PROFILER__").split("__"));
    fig = fig.merge(CliProvider(cli.clone()));
    Ok(fig)
}

/// Loads and validates the effective configuration from the process
/// environment.
pub fn load(config_path: Option<&Path>, cli: &CliOverrides) -> Result<Loaded, ConfigError> {
    let fig = figment(config_path, cli, &|k| std::env::var(k).ok())?;
    let config: Config = fig
        .extract()
        .map_err(|e| ConfigError::Figment(Box::new(e)))?;
    config.validate()?;
    Ok(Loaded {
        figment: fig,
        config,
    })
}

impl Config {
    /// Semantic checks figment cannot do; names the key that is wrong.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.db_settings()?;
        self.profile()?;
        self.attacker_mode()?;
        let inv = |m: &str| Err(ConfigError::Invalid(m.to_string()));
        if self.engine.source.is_empty() {
            return inv("engine.source must not be empty");
        }
        if self.poll.batch == 0 {
            return inv("poll.batch must be at least 1");
        }
        if self.poll.concurrency == 0 {
            return inv("poll.concurrency must be at least 1");
        }
        if self.poll.interval_s == 0 {
            return inv("poll.interval_s must be at least 1");
        }
        if self.poll.cursor_key.is_empty() || self.attackers.deferred_key.is_empty() {
            return inv("poll.cursor_key and attackers.deferred_key must not be empty");
        }
        if self.poll.cursor_key == "attacker_worker_session_cursor" {
            return inv("poll.cursor_key must differ from the Python worker's attacker_worker_session_cursor");
        }
        if self.poll.cursor_key == self.attackers.deferred_key {
            return inv("poll.cursor_key and attackers.deferred_key must differ");
        }
        if self.attackers.retry_initial_s == 0
            || self.attackers.retry_max_s < self.attackers.retry_initial_s
        {
            return inv("attackers.retry_initial_s must be ≥ 1 and ≤ attackers.retry_max_s");
        }
        if let Err(e) = crate::health::heartbeat::WorkerName::parse(&self.bus.worker) {
            return inv(&format!("bus.worker: {e}"));
        }
        if self.bus.concurrency == 0 || self.bus.queue == 0 || self.bus.heartbeat_s == 0 {
            return inv("bus.concurrency, bus.queue and bus.heartbeat_s must be at least 1");
        }
        if self.attackers.deferred_max == 0 {
            return inv("attackers.deferred_max must be at least 1");
        }
        if self.database.max_connections == 0 {
            return inv("database.max_connections must be at least 1");
        }
        if self
            .log
            .level
            .parse::<tracing_subscriber::EnvFilter>()
            .is_err()
        {
            return inv("log.level is not a valid tracing filter");
        }
        Ok(())
    }

    pub fn profile(&self) -> Result<decnet_engine::Profile, ConfigError> {
        self.engine
            .profile
            .parse()
            .map_err(|e: decnet_engine::profile::UnknownProfile| {
                ConfigError::Invalid(format!("engine.profile: {e}"))
            })
    }

    pub fn attacker_mode(&self) -> Result<AttackerMode, ConfigError> {
        match self.attackers.mode.as_str() {
            "create" => Ok(AttackerMode::Create),
            "wait" => Ok(AttackerMode::Wait),
            other => Err(ConfigError::Invalid(format!(
                "attackers.mode must be \"create\" or \"wait\", not {other:?}"
            ))),
        }
    }

    /// Resolves backend and URL. A URL wins over the parts; its scheme must
    /// agree with an explicit backend.
    pub fn db_settings(&self) -> Result<DbSettings, ConfigError> {
        let d = &self.database;
        let inv = |m: String| ConfigError::Invalid(m);
        let explicit = if d.backend.is_empty() {
            None
        } else {
            Some(Backend::parse(&d.backend).ok_or_else(|| {
                inv(format!(
                    "database.backend must be sqlite, mysql or postgres, not {:?}",
                    d.backend
                ))
            })?)
        };
        let schema = match d.schema.as_str() {
            "own" => SchemaMode::Own,
            "decnet" => SchemaMode::Decnet,
            other => {
                return Err(inv(format!(
                    "database.schema must be \"own\" or \"decnet\", not {other:?}"
                )))
            }
        };
        let (backend, url) = if !d.url.is_empty() {
            let from_url = Backend::from_url(&d.url)
                .ok_or_else(|| inv("database.url has an unknown scheme".into()))?;
            if let Some(b) = explicit {
                if b != from_url {
                    return Err(inv(format!(
                        "database.backend is {} but database.url is a {} URL",
                        b.name(),
                        from_url.name()
                    )));
                }
            }
            (from_url, normalise_url(&d.url, from_url))
        } else {
            let b = explicit.unwrap_or(Backend::Sqlite);
            (b, self.url_from_parts(b)?)
        };
        Ok(DbSettings {
            backend,
            url,
            schema,
            max_connections: d.max_connections,
            busy_timeout_ms: d.busy_timeout_ms,
        })
    }

    fn url_from_parts(&self, b: Backend) -> Result<String, ConfigError> {
        use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
        let d = &self.database;
        let enc = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
        match b {
            Backend::Sqlite => {
                let p = d.path.to_str().ok_or_else(|| {
                    ConfigError::Invalid("database.path is not valid UTF-8".into())
                })?;
                if p.is_empty() {
                    return Err(ConfigError::Invalid("database.path is empty".into()));
                }
                Ok(format!("sqlite://{p}?mode=rwc"))
            }
            Backend::Mysql | Backend::Postgres => {
                let (scheme, port) = if b == Backend::Mysql {
                    ("mysql", 3306)
                } else {
                    ("postgres", 5432)
                };
                let port = if d.port == 0 { port } else { d.port };
                let auth = if d.password.is_empty() {
                    enc(&d.user)
                } else {
                    format!("{}:{}", enc(&d.user), enc(&d.password))
                };
                Ok(format!(
                    "{scheme}://{auth}@{}:{port}/{}",
                    d.host,
                    enc(&d.name)
                ))
            }
        }
    }
}

/// SQLAlchemy URLs (`mysql+asyncmy://…`) → what sqlx accepts.
fn normalise_url(url: &str, b: Backend) -> String {
    let rest = match url.split_once("://") {
        Some((_, rest)) => rest,
        None => return url.to_string(),
    };
    match b {
        Backend::Mysql => format!("mysql://{rest}"),
        Backend::Postgres => format!("postgres://{rest}"),
        Backend::Sqlite => {
            if url.contains('?') {
                format!("sqlite://{rest}")
            } else {
                format!("sqlite://{rest}?mode=rwc")
            }
        }
    }
}

/// Replaces a URL's password with `***`.
pub fn mask_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// DECNET's INI file (read only for the variables below).
pub const DEFAULT_DECNET_INI: &str = "/etc/decnet/decnet.ini";

/// Reads DECNET's INI the way `decnet/config_ini.py` maps it onto
/// variables: `[database]` type/url/host/port/name/user, `[bus]`
/// enabled/socket, and `[decnet]` keys (kebab → `DECNET_SCREAMING_SNAKE`,
/// e.g. `artifacts-root`). No secrets come from the INI. Missing or
/// unreadable file → None.
fn read_decnet_ini(path: &Path) -> Option<std::collections::HashMap<String, String>> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut out = std::collections::HashMap::new();
    let mut section = String::new();
    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim().to_string();
            continue;
        }
        let Some((k, v)) = line.split_once(['=', ':']) else {
            continue;
        };
        // configparser's inline comments: `#`/`;` preceded by whitespace.
        let mut v = v.trim();
        for marker in [" #", "\t#", " ;", "\t;"] {
            if let Some(i) = v.find(marker) {
                v = v[..i].trim_end();
            }
        }
        let k = k.trim().to_ascii_lowercase();
        let var = match (section.as_str(), k.as_str()) {
            ("database", "type" | "url" | "host" | "port" | "name" | "user") => {
                format!("DECNET_DB_{}", k.to_ascii_uppercase())
            }
            ("bus", "enabled" | "socket") => format!("DECNET_BUS_{}", k.to_ascii_uppercase()),
            ("decnet", _) => format!("DECNET_{}", k.replace('-', "_").to_ascii_uppercase()),
            _ => continue,
        };
        out.entry(var).or_insert_with(|| v.to_string());
    }
    Some(out)
}

/// DECNET's own variables (contracts.md §7) mapped onto our keys.
struct DecnetEnv {
    name: String,
    dict: Dict,
}

impl DecnetEnv {
    fn from_env(env: &dyn Fn(&str) -> Option<String>) -> DecnetEnv {
        let mut database = Dict::new();
        let mut artifacts = Dict::new();
        let mut bus = Dict::new();
        let get = |k: &str| env(k).filter(|v| !v.is_empty());
        if let Some(v) = get("DECNET_DB_TYPE") {
            database.insert("backend".into(), Value::from(v));
        }
        if let Some(v) = get("DECNET_DB_URL") {
            database.insert("url".into(), Value::from(v));
        }
        for (var, key) in [
            ("DECNET_DB_HOST", "host"),
            ("DECNET_DB_NAME", "name"),
            ("DECNET_DB_USER", "user"),
            ("DECNET_DB_PASSWORD", "password"),
        ] {
            if let Some(v) = get(var) {
                database.insert(key.into(), Value::from(v));
            }
        }
        if let Some(v) = get("DECNET_DB_PORT") {
            // Left as a string if not a number, so extraction names the key.
            let val = v.parse::<u16>().map(Value::from).unwrap_or(Value::from(v));
            database.insert("port".into(), val);
        }
        if let Some(v) = get("DECNET_ARTIFACTS_ROOT") {
            artifacts.insert("root".into(), Value::from(v));
        }
        if let Some(v) = env("DECNET_BUS_ENABLED") {
            // DECNET: "false" (any case) disables, anything else enables.
            bus.insert(
                "enabled".into(),
                Value::from(!v.eq_ignore_ascii_case("false")),
            );
        }
        if let Some(v) = get("DECNET_BUS_SOCKET") {
            bus.insert("socket".into(), Value::from(v));
        }
        let mut dict = Dict::new();
        for (k, d) in [
            ("database", database),
            ("artifacts", artifacts),
            ("bus", bus),
        ] {
            if !d.is_empty() {
                dict.insert(k.into(), Value::from(d));
            }
        }
        DecnetEnv {
            name: "DECNET_* environment".into(),
            dict,
        }
    }
}

impl Provider for DecnetEnv {
    fn metadata(&self) -> Metadata {
        Metadata::named(self.name.clone())
    }
    fn data(&self) -> Result<Map<FigProfile, Dict>, figment::Error> {
        Ok(FigProfile::Default.collect(self.dict.clone()))
    }
}

struct CliProvider(CliOverrides);

impl Provider for CliProvider {
    fn metadata(&self) -> Metadata {
        Metadata::named("command line")
    }
    fn data(&self) -> Result<Map<FigProfile, Dict>, figment::Error> {
        let c = &self.0;
        let mut database = Dict::new();
        let mut dict = Dict::new();
        if let Some(v) = &c.database_url {
            database.insert("url".into(), Value::from(v.clone()));
        }
        if let Some(v) = &c.schema {
            database.insert("schema".into(), Value::from(v.clone()));
        }
        if !database.is_empty() {
            dict.insert("database".into(), Value::from(database));
        }
        let mut one = |section: &str, key: &str, v: Value| {
            let mut d = Dict::new();
            d.insert(key.into(), v);
            dict.insert(section.into(), Value::from(d));
        };
        if let Some(v) = &c.artifacts_root {
            one("artifacts", "root", Value::from(v.display().to_string()));
        }
        if let Some(v) = &c.profile {
            one("engine", "profile", Value::from(v.clone()));
        }
        if let Some(v) = &c.attackers {
            one("attackers", "mode", Value::from(v.clone()));
        }
        if let Some(v) = &c.log_level {
            one("log", "level", Value::from(v.clone()));
        }
        Ok(FigProfile::Default.collect(dict))
    }
}

/// Keys whose values are masked in `check-config`.
fn is_secret(key: &str) -> bool {
    key == "database.password"
}

/// One line per key: `key = value  # source`, secrets masked.
pub fn describe(fig: &Figment) -> Vec<String> {
    let mut out = Vec::new();
    let defaults = match Serialized::defaults(Config::default()).data() {
        Ok(d) => d,
        Err(_) => return out,
    };
    let mut keys = BTreeMap::new();
    if let Some(dict) = defaults.get(&FigProfile::Default) {
        for (section, v) in dict {
            if let Some(inner) = v.as_dict() {
                for k in inner.keys() {
                    keys.insert(format!("{section}.{k}"), ());
                }
            }
        }
    }
    let mut section = String::new();
    for key in keys.keys() {
        let (s, _) = key.split_once('.').unwrap_or((key.as_str(), ""));
        if s != section {
            section = s.to_string();
            out.push(format!("[{section}]"));
        }
        let value = fig.find_value(key).ok();
        let shown = match &value {
            Some(v) if is_secret(key) => {
                if v.as_str().map(str::is_empty).unwrap_or(false) {
                    "\"\"".to_string()
                } else {
                    "\"***\"".to_string()
                }
            }
            Some(v) if key == "database.url" => match v.as_str() {
                Some(s) => format!("{:?}", mask_url(s)),
                None => render(v),
            },
            Some(v) => render(v),
            None => "(unset)".to_string(),
        };
        let source = fig
            .find_metadata(key)
            .map(|m| {
                if m.name.starts_with("decnet_profiler::config") {
                    return "default".to_string();
                }
                let mut s = m.name.to_string();
                if let Some(src) = &m.source {
                    s.push_str(&format!(" ({src})"));
                }
                s
            })
            .unwrap_or_else(|| "default".into());
        out.push(format!("{key} = {shown}  # {source}"));
    }
    out
}

fn render(v: &Value) -> String {
    match v {
        Value::String(_, s) => format!("{s:?}"),
        Value::Bool(_, b) => b.to_string(),
        Value::Num(_, n) => n
            .to_u128()
            .map(|x| x.to_string())
            .or_else(|| n.to_i128().map(|x| x.to_string()))
            .or_else(|| n.to_f64().map(|x| x.to_string()))
            .unwrap_or_default(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    fn load_with(pairs: &'static [(&'static str, &'static str)], cli: CliOverrides) -> Config {
        let f = figment(None, &cli, &env_of(pairs)).expect("figment");
        f.extract::<Config>().expect("extract")
    }

    #[test]
    fn defaults_are_valid_sqlite() {
        let c = load_with(&[], CliOverrides::default());
        let db = c.db_settings().expect("db");
        assert_eq!(db.backend, Backend::Sqlite);
        assert_eq!(
            db.url,
            "sqlite:///var/lib/decnet-profiler/profiler.db?mode=rwc"
        );
        assert_eq!(c.poll.cursor_key, "decnet_profiler_session_cursor");
        assert_eq!(c.poll.concurrency, 4);
        c.validate().expect("valid");
        let mut zero = c.clone();
        zero.poll.concurrency = 0;
        assert!(zero.validate().is_err());
    }

    #[test]
    fn decnet_mysql_parts_build_a_url() {
        let c = load_with(
            &[
                ("DECNET_DB_TYPE", "mysql"),
                ("DECNET_DB_HOST", "db.local"),
                ("DECNET_DB_PASSWORD", "p@ss word"),
                ("DECNET_BUS_ENABLED", "FALSE"),
                ("DECNET_ARTIFACTS_ROOT", "/srv/a"),
            ],
            CliOverrides::default(),
        );
        let db = c.db_settings().expect("db");
        assert_eq!(db.backend, Backend::Mysql);
        assert_eq!(db.url, "mysql://decnet:p%40ss%20word@db.local:3306/decnet");
        assert!(!c.bus.enabled);
        assert_eq!(c.artifacts.root, PathBuf::from("/srv/a"));
    }

    #[test]
    fn sqlalchemy_url_is_normalised_and_cli_wins() {
        let c = load_with(
            &[("DECNET_DB_URL", "mysql+asyncmy://u:p@h:3307/d")],
            CliOverrides::default(),
        );
        assert_eq!(c.db_settings().expect("db").url, "mysql://u:p@h:3307/d");
        let c = load_with(
            &[("DECNET_DB_URL", "mysql+asyncmy://u:p@h:3307/d")],
            CliOverrides {
                database_url: Some("postgres://x@y/z".into()),
                ..Default::default()
            },
        );
        assert_eq!(c.db_settings().expect("db").backend, Backend::Postgres);
    }

    #[test]
    fn conflicting_backend_is_invalid() {
        let c = load_with(
            &[
                ("DECNET_DB_TYPE", "sqlite"),
                ("DECNET_DB_URL", "mysql://h/d"),
            ],
            CliOverrides::default(),
        );
        assert!(c.validate().is_err());
    }

    #[test]
    fn precedence_defaults_toml_decnet_env_cli() {
        let dir = tempfile::tempdir().expect("tempdir");
        let toml = dir.path().join("p.toml");
        std::fs::write(
            &toml,
            "[poll]\nbatch = 10\ninterval_s = 5\n[artifacts]\nroot = \"/toml\"\n[engine]\nprofile = \"nope\"\n",
        )
        .expect("write");
        let f = figment(
            Some(&toml),
            &CliOverrides {
                profile: Some("decnet-1.2".into()),
                ..Default::default()
            },
            &env_of(&[("DECNET_ARTIFACTS_ROOT", "/env")]),
        )
        .expect("figment");
        let c: Config = f.extract().expect("extract");
        assert_eq!(c.poll.batch, 10);
        assert_eq!(c.poll.interval_s, 5);
        assert_eq!(c.poll.cursor_key, "decnet_profiler_session_cursor");
        assert_eq!(c.artifacts.root, PathBuf::from("/env"));
        assert_eq!(c.engine.profile, "decnet-1.2");
        c.validate().expect("valid");
        let lines = describe(&f).join("\n");
        assert!(lines.contains("poll.batch = 10  # TOML file"), "{lines}");
        assert!(lines.contains("poll.cursor_key = \"decnet_profiler_session_cursor\"  # default"));
        assert!(lines.contains("engine.profile = \"decnet-1.2\"  # command line"));
        // A missing explicit file and an unknown key are errors.
        assert!(figment(
            Some(&dir.path().join("none.toml")),
            &CliOverrides::default(),
            &env_of(&[])
        )
        .is_err());
        std::fs::write(&toml, "[poll]\nbatchh = 1\n").expect("write");
        let f = figment(Some(&toml), &CliOverrides::default(), &env_of(&[])).expect("figment");
        assert!(f.extract::<Config>().is_err());
    }

    #[test]
    fn decnet_ini_sits_below_decnet_env() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ini = dir.path().join("decnet.ini");
        std::fs::write(
            &ini,
            "[decnet]\nartifacts-root = /ini/artifacts  # comment\n[database]\ntype = mysql\nhost = ini-host\nport = 3307\npassword = not-read\n[bus]\nenabled = false\n",
        )
        .expect("write");
        let ini_s = ini.display().to_string();
        let env = move |k: &str| match k {
            "DECNET_CONFIG" => Some(ini_s.clone()),
            "DECNET_DB_HOST" => Some("env-host".to_string()),
            _ => None,
        };
        let f = figment(None, &CliOverrides::default(), &env).expect("figment");
        let c: Config = f.extract().expect("extract");
        assert_eq!(c.artifacts.root, PathBuf::from("/ini/artifacts"));
        assert_eq!(c.database.host, "env-host");
        assert_eq!(c.database.port, 3307);
        assert_eq!(c.database.password, "");
        assert!(!c.bus.enabled);
        assert_eq!(c.db_settings().expect("db").backend, Backend::Mysql);
        let lines = describe(&f).join("\n");
        assert!(
            lines.contains("database.port = 3307  # DECNET INI ("),
            "{lines}"
        );
    }

    #[test]
    fn python_cursor_key_is_refused() {
        let mut c = Config::default();
        c.poll.cursor_key = "attacker_worker_session_cursor".into();
        assert!(c.validate().is_err());
    }

    #[test]
    fn masks_passwords() {
        assert_eq!(mask_url("mysql://u:secret@h/d"), "mysql://u:***@h/d");
        let f = figment(
            None,
            &CliOverrides::default(),
            &env_of(&[("DECNET_DB_PASSWORD", "secret")]),
        )
        .expect("figment");
        let lines = describe(&f).join("\n");
        assert!(!lines.contains("secret"), "{lines}");
        assert!(lines.contains("database.password = \"***\"  # DECNET_* environment"));
    }
}
