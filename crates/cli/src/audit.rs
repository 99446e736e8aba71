//! `safeguard audit …`: the trail for an auditor at the command line, and the signing key
//! that lives outside the database.
//!
//! The key file holds the key's name (the log's origin) on its first line and the Ed25519
//! key as PKCS#8 in base64 on its second; it is created with owner-only permissions the
//! first time a server or `audit key` needs it. Whoever can read it can sign checkpoints,
//! so it never goes in the database or its backups.

use anyhow::{Context as _, bail};
use audit::{SigningKey, VerifierKey};
use base64::Engine as _;
use std::path::{Path, PathBuf};

/// The key file next to a SQLite database (`x.db` → `x.db.audit-key`), or
/// `safeguard-audit.key` in the working directory for PostgreSQL.
pub fn default_key_path(db: &str) -> PathBuf {
    match store::database_url(db) {
        Ok((store::Backend::Sqlite, _)) if !db.contains(':') => PathBuf::from(format!("{db}.audit-key")),
        _ => PathBuf::from("safeguard-audit.key"),
    }
}

/// Reads the signing key at `path`, creating one named `origin` if there is none.
pub fn load_or_create_key(path: &Path, origin: &str) -> anyhow::Result<SigningKey> {
    if path.exists() {
        return load_key(path);
    }
    let key = SigningKey::generate(origin).map_err(|e| anyhow::anyhow!("creating the audit signing key: {e}"))?;
    let text = format!("{}\n{}\n", key.name(), base64::engine::general_purpose::STANDARD.encode(key.pkcs8()));
    write_private(path, text.as_bytes())
        .with_context(|| format!("writing the audit signing key to {}", path.display()))?;
    tracing::info!(path = %path.display(), key = %key.vkey(), "created the audit signing key");
    Ok(key)
}

/// Reads the signing key at `path`.
pub fn load_key(path: &Path) -> anyhow::Result<SigningKey> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut lines = text.lines();
    let (Some(name), Some(pkcs8)) = (lines.next(), lines.next()) else {
        bail!("{} is not a safeguard audit key file (a name line, then the key in base64)", path.display());
    };
    let der = base64::engine::general_purpose::STANDARD
        .decode(pkcs8.trim())
        .with_context(|| format!("{}: the key is not base64", path.display()))?;
    SigningKey::from_pkcs8(name.trim(), &der).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

/// The verifier key to check checkpoints with: the one given (`name+id+key`), else the
/// public half of the key file.
pub fn verifier(given: Option<&str>, key_path: &Path) -> anyhow::Result<VerifierKey> {
    match given {
        Some(v) => v.parse::<VerifierKey>().map_err(|e| anyhow::anyhow!("--key {v:?}: {e}")),
        None => Ok(load_key(key_path)?.verifier()),
    }
}

/// `audit verify`: checks the whole trail; prints what it checked, or names the first bad
/// entry and fails.
pub async fn verify(store: &store::Store, key: &VerifierKey, supplied: Option<&Path>) -> anyhow::Result<()> {
    let supplied = match supplied {
        Some(p) => Some(std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?),
        None => None,
    };
    let started = std::time::Instant::now();
    match store::trail::verify(store, key, supplied.as_deref()).await? {
        Ok(v) => {
            println!(
                "the trail verifies: {} entries (chain and tree recomputed), root {}, {} stored checkpoint(s) checked{}, in {:.1} s",
                v.entries,
                v.root,
                v.checkpoints,
                v.supplied.map(|s| format!(", consistent with the checkpoint supplied (size {s})")).unwrap_or_default(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Err(e) => bail!("the trail does not verify: {e}"),
    }
}

/// `audit export`: every entry from `from` on as JSON lines (`seq`, `entry` in base64,
/// `prev_hash`, `hash`).
pub async fn export(store: &store::Store, from: i64, out: &mut impl std::io::Write) -> anyhow::Result<u64> {
    let mut next = from.max(1);
    let mut n = 0;
    loop {
        let batch = store::trail::export(store, next, 10_000).await?;
        let Some(last) = batch.last() else { break };
        next = last.seq + 1;
        for e in &batch {
            serde_json::to_writer(&mut *out, e)?;
            out.write_all(b"\n")?;
            n += 1;
        }
    }
    out.flush()?;
    Ok(n)
}
