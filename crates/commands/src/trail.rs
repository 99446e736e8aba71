//! The trail for auditors: signed checkpoints, inclusion and consistency proofs, the
//! entries in their canonical encoding, and a check of the whole log. An operator with
//! the database (the CLI) is trusted; over the API only the auditor role may ask.

use crate::{Caller, CommandError, Result, Service};
use domain::Rejection;
use domain::authz::Action;
use store::StoreError;
use store::trail::{self, ConsistencyProof, ExportedEntry, InclusionProof, ProofRefused, StoredCheckpoint, Verified};

impl From<ProofRefused> for CommandError {
    fn from(e: ProofRefused) -> Self {
        match e {
            ProofRefused::OutOfRange(why) => CommandError::Rejected(Rejection::invalid("size", why)),
            ProofRefused::Store(e) => CommandError::Store(e),
        }
    }
}

impl Service {
    /// Signs a checkpoint of the trail as it is now, if it has entries no checkpoint
    /// covers and the service holds a signing key. Returns the latest checkpoint.
    pub async fn sign_checkpoint(&self, caller: Caller<'_>) -> Result<Option<StoredCheckpoint>> {
        caller.require(Action::ReadAuditTrail)?;
        let Some(key) = self.config().audit_key.clone() else {
            return Ok(trail::latest_checkpoint(self.store()).await?);
        };
        let (latest, _) = trail::sign_checkpoint(self.store(), &key, self.now()).await?;
        Ok(latest)
    }

    /// The latest signed checkpoint, signing one first when entries are not yet covered.
    pub async fn latest_checkpoint(&self, caller: Caller<'_>) -> Result<StoredCheckpoint> {
        self.sign_checkpoint(caller).await?.ok_or_else(|| {
            CommandError::Rejected(Rejection::Conflict {
                field: None,
                message: "no checkpoint has been signed yet (the service has no signing key, or the trail is empty)"
                    .into(),
            })
        })
    }

    /// The inclusion proof of entry `seq` in the tree of `size` entries (now if `None`).
    pub async fn audit_inclusion(&self, caller: Caller<'_>, seq: u64, size: Option<u64>) -> Result<InclusionProof> {
        caller.require(Action::ReadAuditTrail)?;
        Ok(trail::inclusion_proof(self.store(), seq, size).await?)
    }

    /// The consistency proof between the trail at `old` and at `new` entries.
    pub async fn audit_consistency(&self, caller: Caller<'_>, old: u64, new: u64) -> Result<ConsistencyProof> {
        caller.require(Action::ReadAuditTrail)?;
        Ok(trail::consistency_proof(self.store(), old, new).await?)
    }

    /// Entries from `from` on, at most `limit`, in their canonical encoding.
    pub async fn audit_export(&self, caller: Caller<'_>, from: i64, limit: i64) -> Result<Vec<ExportedEntry>> {
        caller.require(Action::ReadAuditTrail)?;
        Ok(trail::export(self.store(), from.max(1), limit.clamp(1, 100_000)).await?)
    }

    /// Checks the whole trail against the service's own key (and `supplied`, a signed
    /// checkpoint an auditor kept). `Ok(Err(..))` names the first bad entry.
    pub async fn audit_verify(
        &self,
        caller: Caller<'_>,
        supplied: Option<&str>,
    ) -> Result<std::result::Result<Verified, audit::ChainError>> {
        caller.require(Action::ReadAuditTrail)?;
        let Some(key) = self.config().audit_key.clone() else {
            return Err(CommandError::Store(StoreError::Corrupt {
                table: "audit_checkpoints",
                detail: "the service has no signing key to check checkpoints with".into(),
            }));
        };
        Ok(trail::verify(self.store(), &key.verifier(), supplied).await?)
    }
}
