//! The audit log: append-only, hash-chained. Each link holds the previous link's hash
//! and its own, an HMAC-SHA256 (under a key derived from the master key) of its
//! sequence number, the previous hash and the event. Editing, deleting or reordering
//! links breaks the chain at the first bad link, and someone with only the database
//! cannot recompute a consistent chain. Every [`ANCHOR_EVERY`] links, and at shutdown,
//! the head is also appended to an anchor file outside the database, which catches a
//! chain cut short at its end.
//!
//! Events never hold bodies, images or keys: only ids, names, counts and statuses.
//!
//! One task writes: it takes events in order, chains them and appends them in batches.
//! [`AuditLog::record_durably`] returns once its event is committed (admin actions);
//! [`AuditLog::record`] queues (requests), and [`AuditLog::flush`] at shutdown writes
//! whatever is queued.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use tokio::io::AsyncWriteExt;
use tokio::sync::{mpsc, oneshot};

use crate::store::{AuditRow, Store, StoreError, UsageRecord};

/// Links between two anchors.
pub const ANCHOR_EVERY: i64 = 64;
/// Most links written in one transaction.
const BATCH: usize = 256;
/// The previous hash of the first link.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audited event.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// When, Unix milliseconds.
    pub at_ms: i64,
    /// The request's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The tenant concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The acting key's prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_prefix: Option<String>,
    /// What happened, e.g. `tenant.create`, `key.revoke`, `auth.denied`, `chat.completion`.
    pub action: String,
    /// What it happened to (a tenant id, a key prefix, a provider).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The provider that served a request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The plugins involved, as `name@version` with their sha256.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plugins: Vec<String>,
    /// The HTTP status answered.
    pub status: u16,
    /// Prompt tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens: Option<u32>,
    /// Completion tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens: Option<u32>,
    /// Time taken, milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// Rule ids sanitizers reported.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<String>,
    /// Why, for refusals and failures (never a secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl AuditEvent {
    /// An event of `action` with `status`, now.
    pub fn new(action: &str, status: u16) -> Self {
        Self { at_ms: now_ms(), action: action.to_owned(), status, ..Self::default() }
    }
}

fn now_ms() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// Computes link hashes.
#[derive(Clone)]
pub struct Chainer {
    key: [u8; 32],
}

impl std::fmt::Debug for Chainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Chainer(<redacted>)")
    }
}

impl Chainer {
    /// A chainer with `key`.
    pub fn new(key: [u8; 32]) -> Self {
        Self { key }
    }

    /// The hash of the link `seq` holding `event` after `prev_hash`.
    pub fn hash(&self, seq: i64, prev_hash: &str, event: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        for part in [seq.to_string().as_bytes(), b"\n", prev_hash.as_bytes(), b"\n", event.as_bytes()] {
            mac.update(part);
        }
        hex::encode(mac.finalize().into_bytes())
    }

    fn link(&self, seq: i64, prev_hash: &str, event: &AuditEvent) -> AuditRow {
        let json = serde_json::to_string(event).expect("an audit event serialises");
        AuditRow {
            seq,
            tenant: event.tenant.clone(),
            hash: self.hash(seq, prev_hash, &json),
            event: json,
            prev_hash: prev_hash.to_owned(),
        }
    }
}

type Ack = oneshot::Sender<Result<i64, String>>;

/// An event waiting to be written, with its usage row and who waits for it.
struct Pending {
    event: AuditEvent,
    usage: Option<UsageRecord>,
    ack: Option<Ack>,
}

enum Message {
    Event(Box<Pending>),
    Flush(oneshot::Sender<()>),
}

/// The handle every part of the server records through.
#[derive(Clone)]
pub struct AuditLog {
    sender: mpsc::Sender<Message>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditLog")
    }
}

/// Why a durable record failed.
#[derive(Debug, thiserror::Error)]
#[error("the audit log could not record the event: {0}")]
pub struct AuditError(String);

impl AuditLog {
    /// Starts the writer over `store`, continuing its chain, anchoring to `anchors`.
    ///
    /// # Errors
    ///
    /// When the chain's head cannot be read.
    pub async fn start(store: Arc<dyn Store>, chainer: Chainer, anchors: PathBuf) -> Result<Self, StoreError> {
        let head = store.audit_head().await?;
        let (sender, receiver) = mpsc::channel(4096);
        let writer = Writer {
            store,
            chainer,
            anchors,
            seq: head.as_ref().map_or(0, |row| row.seq),
            hash: head.map_or_else(|| GENESIS.to_owned(), |row| row.hash),
        };
        tokio::spawn(writer.run(receiver));
        Ok(Self { sender })
    }

    /// Queues `event`; it is written with the next batch.
    pub async fn record(&self, event: AuditEvent) {
        self.send(Message::Event(Box::new(Pending { event, usage: None, ack: None }))).await;
    }

    /// Queues a served request's `event` with its `usage`; both are written in the same
    /// transaction.
    pub async fn record_request(&self, event: AuditEvent, usage: UsageRecord) {
        self.send(Message::Event(Box::new(Pending { event, usage: Some(usage), ack: None }))).await;
    }

    async fn send(&self, message: Message) {
        if self.sender.send(message).await.is_err() {
            tracing::error!("the audit writer has stopped; an event was not recorded");
        }
    }

    /// Records `event` and returns its sequence number once it is committed.
    ///
    /// # Errors
    ///
    /// When the store refused it.
    pub async fn record_durably(&self, event: AuditEvent) -> Result<i64, AuditError> {
        let (ack, done) = oneshot::channel();
        self.sender
            .send(Message::Event(Box::new(Pending { event, usage: None, ack: Some(ack) })))
            .await
            .map_err(|_| AuditError("writer stopped".into()))?;
        done.await.map_err(|_| AuditError("writer stopped".into()))?.map_err(AuditError)
    }

    /// Returns once every event queued before it is written, and anchors the head.
    pub async fn flush(&self) {
        let (ack, done) = oneshot::channel();
        if self.sender.send(Message::Flush(ack)).await.is_ok() {
            let _ = done.await;
        }
    }
}

struct Writer {
    store: Arc<dyn Store>,
    chainer: Chainer,
    anchors: PathBuf,
    seq: i64,
    hash: String,
}

impl Writer {
    async fn run(mut self, mut receiver: mpsc::Receiver<Message>) {
        let mut batch = Vec::new();
        while let Some(first) = receiver.recv().await {
            let mut flushes = Vec::new();
            for message in std::iter::once(first).chain(std::iter::from_fn(|| receiver.try_recv().ok())).take(BATCH) {
                match message {
                    Message::Event(pending) => batch.push(*pending),
                    Message::Flush(ack) => flushes.push(ack),
                }
            }
            self.write(&mut batch).await;
            if !flushes.is_empty() {
                self.anchor().await;
                for ack in flushes {
                    let _ = ack.send(());
                }
            }
        }
        self.anchor().await;
    }

    async fn write(&mut self, batch: &mut Vec<Pending>) {
        if batch.is_empty() {
            return;
        }
        let usage: Vec<UsageRecord> = batch.iter_mut().filter_map(|pending| pending.usage.take()).collect();
        let mut result = self.append(batch, &usage).await;
        if result.is_err() {
            // Another process (e.g. `airlock admin init`) may have appended: continue
            // from the stored head and try once more.
            if let Ok(Some(head)) = self.store.audit_head().await
                && head.seq != self.seq
            {
                (self.seq, self.hash) = (head.seq, head.hash);
                result = self.append(batch, &usage).await;
            }
        }
        if let Err(error) = &result {
            tracing::error!(%error, events = batch.len(), "the audit log could not be written");
        }
        let previous = self.seq;
        if let Ok((seq, hash)) = &result {
            (self.seq, self.hash) = (*seq, hash.clone());
        }
        for (index, pending) in batch.drain(..).enumerate() {
            if let Some(ack) = pending.ack {
                let seq = previous + 1 + i64::try_from(index).unwrap_or(0);
                let _ = ack.send(result.as_ref().map(|_| seq).map_err(ToString::to_string));
            }
        }
        if result.is_ok() && self.seq / ANCHOR_EVERY > previous / ANCHOR_EVERY {
            self.anchor().await;
        }
    }

    /// Chains the batch after the current head and appends it; the new head.
    async fn append(&self, batch: &[Pending], usage: &[UsageRecord]) -> Result<(i64, String), StoreError> {
        let (mut seq, mut hash) = (self.seq, self.hash.clone());
        let mut rows = Vec::with_capacity(batch.len());
        for pending in batch {
            seq += 1;
            let row = self.chainer.link(seq, &hash, &pending.event);
            hash.clone_from(&row.hash);
            rows.push(row);
        }
        self.store.append(&rows, usage).await?;
        Ok((seq, hash))
    }

    async fn anchor(&self) {
        if self.seq == 0 {
            return;
        }
        let line = format!("{} {}\n", self.seq, self.hash);
        let written = async {
            let mut file = tokio::fs::OpenOptions::new().create(true).append(true).open(&self.anchors).await?;
            file.write_all(line.as_bytes()).await?;
            file.sync_data().await
        };
        if let Err(error) = written.await {
            tracing::error!(%error, file = %self.anchors.display(), "the audit anchor could not be written");
        }
    }
}

/// The outcome of checking the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// Links checked.
    pub records: i64,
    /// The last good link's hash.
    pub head: String,
    /// The first bad link and what is wrong with it.
    pub first_bad: Option<BadLink>,
}

/// A link that fails the check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BadLink {
    /// Its sequence number.
    pub seq: i64,
    /// What is wrong.
    pub reason: String,
}

/// Checks the whole chain in `store` and the anchors in `anchors` (if the file exists).
///
/// # Errors
///
/// When the store or the anchor file cannot be read.
pub async fn verify(store: &dyn Store, chainer: &Chainer, anchors: &Path) -> anyhow::Result<Verification> {
    let anchors = read_anchors(anchors).await?;
    let mut expected_seq = 1;
    let mut prev = GENESIS.to_owned();
    let bad = |seq: i64, reason: String| Some(BadLink { seq, reason });
    let mut first_bad = None;
    'pages: loop {
        let rows = store.audit(None, expected_seq - 1, 1000).await?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            first_bad = if row.seq != expected_seq {
                bad(expected_seq, format!("record {expected_seq} is missing (deleted); the next is {}", row.seq))
            } else if row.prev_hash != prev {
                bad(
                    row.seq,
                    "its previous-hash does not match the record before it (reordered or a record deleted)".into(),
                )
            } else if chainer.hash(row.seq, &row.prev_hash, &row.event) != row.hash {
                bad(row.seq, "its content does not match its hash (edited)".into())
            } else if anchors.iter().any(|(seq, hash)| *seq == row.seq && *hash != row.hash) {
                bad(row.seq, "it differs from the anchored hash (the chain was rewritten)".into())
            } else {
                None
            };
            if first_bad.is_some() {
                break 'pages;
            }
            prev = row.hash;
            expected_seq += 1;
        }
    }
    let records = expected_seq - 1;
    if first_bad.is_none()
        && let Some((seq, _)) = anchors.iter().filter(|(seq, _)| *seq > records).min()
    {
        first_bad = bad(records + 1, format!("records {}..={seq} were anchored but are gone (deleted)", records + 1));
    }
    Ok(Verification { records, head: prev, first_bad })
}

async fn read_anchors(path: &Path) -> anyhow::Result<Vec<(i64, String)>> {
    let text = match tokio::fs::read_to_string(path).await {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error.into()),
    };
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let (seq, hash) = line.split_once(' ').ok_or_else(|| anyhow::anyhow!("bad anchor line `{line}`"))?;
            Ok((seq.parse()?, hash.to_owned()))
        })
        .collect()
}
