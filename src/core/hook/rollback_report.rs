//! What became of each id a rollback was asked to delete, and the sentence a
//! failed task's description ends with. The sentence tells the truth:
//! "deleted" only when the hook's delete ran and succeeded, "already gone"
//! only when the delete said so (`already_gone=true` on its output channel).
//! Ids are metadata: the sentence names them as written, and it is never
//! masked (its other words are credhook's own).

use crate::core::hook::channel;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// What became of one id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdOutcome {
    /// The delete exited 0.
    Deleted,
    /// The delete exited 0 and wrote `already_gone=true`.
    AlreadyGone,
    /// The delete failed (non-zero exit, signal, timeout, not started).
    Failed,
    /// No delete ran: past the rollback's budget, its id limit, or a stop.
    NotAttempted,
    /// The id holds a control character: no delete can be given it.
    Unusable,
}

/// The outcome of a delete that ran: exit 0 (`succeeded`) is deleted, or
/// already gone when its output said so.
pub(crate) fn of_delete(succeeded: bool, output: &[u8]) -> IdOutcome {
    match (succeeded, channel::said_already_gone(output)) {
        (true, true) => IdOutcome::AlreadyGone,
        (true, false) => IdOutcome::Deleted,
        (false, _) => IdOutcome::Failed,
    }
}

/// Whether credhook may give `id` to the hook's delete at all.
pub(crate) fn deletable(id: &str) -> bool {
    channel::usable_id(id)
}

/// An id as a sentence shows it: control characters escaped.
fn shown(id: &str) -> String {
    if channel::usable_id(id) {
        String::from(id)
    } else {
        id.escape_debug().collect()
    }
}

/// The sentence for the description, from each id's outcome (in the order
/// the hook wrote them); None when there were none.
pub(crate) fn sentence(outcomes: &[(&str, IdOutcome)]) -> Option<String> {
    if outcomes.is_empty() {
        return None;
    }
    let ids = |want: &[IdOutcome]| -> Vec<String> {
        outcomes
            .iter()
            .filter(|(_, o)| want.contains(o))
            .map(|(id, _)| shown(id))
            .collect()
    };
    let mut parts: Vec<String> = Vec::new();
    let unusable = ids(&[IdOutcome::Unusable]);
    if !unusable.is_empty() {
        parts.push(format!(
            "The credentials id it wrote ({}) holds a control character, so credhook could not delete those \
             credentials; delete them by hand.",
            unusable.join(", ")
        ));
    }
    let failed = ids(&[IdOutcome::Failed, IdOutcome::NotAttempted]);
    if !failed.is_empty() {
        parts.push(format!(
            "Deleting the credentials it had created ({}) failed too; delete them by hand.",
            failed.join(", ")
        ));
    }
    let deleted = ids(&[IdOutcome::Deleted]);
    if !deleted.is_empty() {
        parts.push(format!(
            "The credentials it had created ({}) were deleted again.",
            deleted.join(", ")
        ));
    }
    let gone = ids(&[IdOutcome::AlreadyGone]);
    if !gone.is_empty() {
        parts.push(format!(
            "The credentials it named ({}) were already gone, the hook's delete said: nothing was left to delete.",
            gone.join(", ")
        ));
    }
    Some(parts.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use IdOutcome::*;

    #[test]
    fn each_outcome_is_said_as_it_was() {
        assert_eq!(sentence(&[]), None);
        assert_eq!(
            sentence(&[("c-1", Deleted)]).unwrap(),
            "The credentials it had created (c-1) were deleted again."
        );
        let s = sentence(&[("c-1", AlreadyGone)]).unwrap();
        assert!(
            s.contains("(c-1) were already gone") && !s.contains("deleted again"),
            "{s}"
        );
        let s = sentence(&[("a", Failed), ("b", Deleted), ("c", NotAttempted), ("d", AlreadyGone)]).unwrap();
        assert!(
            s.starts_with(
                "Deleting the credentials it had created (a, c) failed too; delete them by hand. \
                 The credentials it had created (b) were deleted again. The credentials it named (d) were already gone"
            ),
            "{s}"
        );
        let s = sentence(&[("x\0y", Unusable), ("ok", Deleted)]).unwrap();
        assert!(
            s.starts_with("The credentials id it wrote (x\\0y) holds a control character"),
            "{s}"
        );
    }

    #[test]
    fn a_delete_is_already_gone_only_when_it_says_so() {
        assert_eq!(of_delete(true, b""), Deleted);
        assert_eq!(of_delete(true, b"already_gone=true\n"), AlreadyGone);
        assert_eq!(of_delete(true, b"ALREADY_GONE = TRUE\n"), AlreadyGone);
        assert_eq!(of_delete(true, b"already_gone=false\n"), Deleted);
        assert_eq!(of_delete(false, b"already_gone=true\n"), Failed);
        assert!(deletable("c-1") && !deletable("c\0") && !deletable("c\u{1b}[2J"));
    }
}
