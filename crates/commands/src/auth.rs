//! Signing in and out, sessions and API tokens.
//!
//! Passwords are hashed with argon2id. Session and API tokens are 256 random bits shown
//! to the client once; the store keeps only their SHA-256, so a stolen database does not
//! yield live sessions.

use crate::executor::{Command, Decided, Load};
use crate::{Caller, CommandError, Result, Service};
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use domain::accounts;
use domain::authz::Actor;
use domain::ids::{StaffId, TokenId};
use domain::staff::NewPassword;
use domain::text::Label;
use sha2::{Digest, Sha256};

/// Hashes a password with argon2id (default parameters: 19 MiB, 2 passes).
pub fn hash_password(password: &NewPassword) -> Result<String> {
    Argon2::default()
        .hash_password(password.expose().as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| CommandError::Rejected(domain::Rejection::invalid("password", format!("cannot hash: {e}"))))
}

fn verify_password(password: &str, hash: &str) -> bool {
    Argon2::default().verify_password(password.as_bytes(), hash).is_ok()
}

/// A fresh random token (URL-safe, 43 characters).
pub fn new_token() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The CSRF token for forms in a session: derived from the session token, so it needs no
/// storage and an attacker who cannot read the (HttpOnly) cookie cannot compute it.
pub fn csrf_token(session_token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"safeguard-csrf\0");
    h.update(session_token.as_bytes());
    hex::encode(&h.finalize()[..16])
}

/// A new session: the token for the cookie and who it belongs to.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The token to put in the cookie. Shown once.
    pub token: String,
    /// Who signed in.
    pub actor: Actor,
    /// When it lapses.
    pub expires_at: jiff::Timestamp,
}

/// The same message for every failure, so sign-in does not reveal which logins exist.
const BAD_CREDENTIALS: &str = "the login or password is not right";

/// A hash of a password nobody has, checked when the login does not exist so failures
/// take as long either way.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        Argon2::default().hash_password(b"no such user, no such password").map(|h| h.to_string()).unwrap_or_default()
    })
}

/// Starts a session for someone whose password was checked.
struct StartSession {
    token_hash: String,
    expires_at: jiff::Timestamp,
}

impl Command for StartSession {
    type Output = ();
    const ACTION: &'static str = "session.sign_in";

    fn authorise(&self, _caller: &Caller<'_>) -> Result<()> {
        // The password was checked before the command: that is the authorisation.
        Ok(())
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<()>> {
        let staff = load.actor()?.staff;
        let event = accounts::sign_in(staff, self.expires_at, self.token_hash);
        Ok(Decided::new(staff.subject(), vec![event], ()))
    }
}

/// Ends a session.
struct EndSession<'a> {
    session_token: &'a str,
}

impl Command for EndSession<'_> {
    type Output = ();
    const ACTION: &'static str = "session.sign_out";

    fn authorise(&self, _caller: &Caller<'_>) -> Result<()> {
        // Anyone signed in may sign themselves out.
        Ok(())
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<()>> {
        let staff = load.actor()?.staff;
        let event = accounts::sign_out(staff, token_hash(self.session_token));
        Ok(Decided::new(staff.subject(), vec![event], ()))
    }
}

/// Issues an API token for a member of staff.
struct IssueToken {
    staff: StaffId,
    name: Label,
    token_hash: String,
}

impl Command for IssueToken {
    type Output = TokenId;
    const ACTION: &'static str = "token.issue";

    fn authorise(&self, caller: &Caller<'_>) -> Result<()> {
        // People issue tokens for themselves; the operator's command line for anyone.
        match caller {
            Caller::Staff(a) if a.staff != self.staff => {
                Err(domain::Rejection::Forbidden("an API token is issued to oneself".into()).into())
            }
            _ => Ok(()),
        }
    }

    async fn decide(self, load: &mut Load<'_>) -> Result<Decided<TokenId>> {
        let staff = self.staff;
        let on_record = load.staff_actor(staff).await?.is_some();
        let id = TokenId(load.next_id(TokenId::KIND).await?);
        let event = accounts::issue_token(id, staff, self.name, self.token_hash, on_record)?;
        Ok(Decided::new(staff.subject(), vec![event], id))
    }
}

impl Service {
    /// Checks a login and password and starts a session.
    pub async fn sign_in(&self, login: &str, password: &str) -> Result<NewSession> {
        let login = login.trim().to_ascii_lowercase();
        let creds = store::staff_credentials(self.store(), &login).await?;
        let hash = creds.as_ref().and_then(|c| c.password_hash.clone()).unwrap_or_else(|| dummy_hash().to_string());
        let pw = password.to_string();
        let ok = tokio::task::spawn_blocking(move || verify_password(&pw, &hash)).await.unwrap_or(false);
        let Some(creds) = creds.filter(|c| ok && c.active && c.password_hash.is_some()) else {
            tracing::info!(login = %login, "failed sign-in");
            return Err(CommandError::Rejected(domain::Rejection::invalid("password", BAD_CREDENTIALS)));
        };
        let token = new_token();
        let now = self.now();
        let expires_at = now.checked_add(self.config().session_lifetime).unwrap_or(now);
        let start = StartSession { token_hash: token_hash(&token), expires_at };
        self.execute(Caller::Staff(&creds.actor), start).await?;
        Ok(NewSession { token, actor: creds.actor, expires_at })
    }

    /// Ends a session.
    pub async fn sign_out(&self, actor: &Actor, session_token: &str) -> Result<()> {
        self.execute(Caller::Staff(actor), EndSession { session_token }).await
    }

    /// The person behind a session cookie, if the session is live.
    pub async fn session(&self, session_token: &str) -> Result<Actor> {
        store::session_actor(self.store(), &token_hash(session_token), self.now())
            .await?
            .ok_or(CommandError::Unauthenticated)
    }

    /// The person behind a bearer token.
    pub async fn bearer(&self, token: &str) -> Result<Actor> {
        store::token_actor(self.store(), &token_hash(token)).await?.ok_or(CommandError::Unauthenticated)
    }

    /// Issues an API token to the actor themselves. Returns the token, shown once.
    pub async fn issue_token(&self, actor: &Actor, name: &str) -> Result<(TokenId, String)> {
        let name = Label::parse(name).map_err(|e| domain::Rejection::invalid("name", e))?;
        self.issue_token_for(Caller::Staff(actor), actor.staff, name).await
    }

    /// Issues an API token for `staff` on behalf of `by` (the CLI uses this).
    pub async fn issue_token_for(&self, by: Caller<'_>, staff: StaffId, name: Label) -> Result<(TokenId, String)> {
        let token = new_token();
        let id = self.execute(by, IssueToken { staff, name, token_hash: token_hash(&token) }).await?;
        Ok((id, token))
    }
}
