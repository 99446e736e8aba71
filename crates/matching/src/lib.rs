//! Person matching for safeguard: normalisation, comparisons, a label-free Fellegi-Sunter
//! model with term-frequency and household corrections, blocking, twin-safe clustering, a
//! real-time index and the bulk CSV format. Pure: no I/O beyond `Read`/`Write` values, no
//! async.
//!
//! * Bulk: [`dedupe`] (or [`Prepped`] + [`run_with_model`]) with [`io`] for CSV.
//! * Real time: [`train`] a [`Model`] (e.g. from the store), build an [`Index`], call
//!   [`Index::candidates`]; every [`Candidate`] carries an [`Explanation`].

pub mod blocking;
mod cluster;
pub mod compare;
mod dedupe;
mod index;
pub mod io;
mod model;
pub mod normalize;
mod prepared;
mod record;

pub use dedupe::{Dedupe, Prepped, ScoredPair, Settings, Stage, dedupe, run_with_model, train};
pub use index::{Candidate, Index};
pub use model::{Explanation, FieldEvidence, Model, TrainSettings};
pub use normalize::{Dob, Sex};
pub use record::Record;
