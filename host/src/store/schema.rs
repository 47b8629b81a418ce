//! The schema, as numbered migrations applied in order, each once.

/// Each migration: its version and its SQL. Never edit one that has shipped; add a new one.
pub const MIGRATIONS: &[(i64, &str)] = &[(
    1,
    r"
CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    disabled    INTEGER NOT NULL DEFAULT 0,
    policy      TEXT NOT NULL,
    quotas      TEXT NOT NULL
);
CREATE TABLE api_keys (
    prefix       TEXT PRIMARY KEY,
    hash         BLOB NOT NULL,
    tenant_id    TEXT REFERENCES tenants(id),
    role         TEXT NOT NULL,
    name         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    revoked_at   INTEGER,
    rotated_from TEXT,
    limits       TEXT NOT NULL
);
CREATE INDEX api_keys_tenant ON api_keys(tenant_id);
CREATE TABLE credentials (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    provider    TEXT NOT NULL,
    sealed      BLOB NOT NULL,
    hosts       TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, provider)
);
CREATE TABLE usage (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    at                INTEGER NOT NULL,
    tenant_id         TEXT NOT NULL,
    key_prefix        TEXT NOT NULL,
    request_id        TEXT NOT NULL,
    provider          TEXT NOT NULL,
    model             TEXT NOT NULL,
    prompt_tokens     INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    cost_micro_usd    INTEGER NOT NULL,
    status            INTEGER NOT NULL
);
CREATE INDEX usage_tenant_at ON usage(tenant_id, at);
CREATE TABLE audit (
    seq        INTEGER PRIMARY KEY,
    tenant_id  TEXT,
    event      TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
CREATE INDEX audit_tenant ON audit(tenant_id, seq);
",
)];
