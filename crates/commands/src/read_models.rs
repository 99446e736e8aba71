//! The read models: the views of records that the pages and the API show, as the store's
//! queries build them, named here so that callers need not depend on the store.

pub use store::Delivery;
// The trail's subject for a search: a search names no one record.
pub use store::access::{AccessEntry, AccessKind, SEARCH_SUBJECT};
pub use store::query::{
    AbsenceView, AddressView, AliasView, CaseFilter, CaseView, ChildRecord, ConcernView, DisagreementView, DueView,
    EscalationHistoryView, EscalationView, Named, NoteView, NotificationView, OperationalFigures, PersonView,
    PracticeHistory, ReferralFilter, ReferralView, RelationshipView, StaffView, TeamView, ThresholdDecisionView,
    VisitView, WelfareCheckView,
};
pub use store::trail::{ConsistencyProof, ExportedEntry, InclusionProof};
