//! What became of a request, as far as credhook can know. For the task
//! update it decides the rollback: credentials Secrets Manager may hold are
//! never deleted blindly (see [`crate::core::job::flow`]).

use super::retry::{Ended, is_success};

/// How far a call got, over all its attempts. Ordered: a later attempt can
/// only raise it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Delivery {
    /// The server does not hold the request: no attempt reached it, or each
    /// that did was refused outright (a 4xx, a 5xx other than a gateway's).
    Unsent,
    /// An attempt may have reached the server without our knowing what it
    /// did: the connection broke or timed out once the request was on its
    /// way, a gateway answered 502 or 504 (it may have passed the request
    /// on), or the reply was over the cap.
    MayHaveArrived,
    /// A 2xx came back: the server has it.
    Sent,
}

impl Ended {
    /// What one attempt's ending says about delivery.
    pub(crate) fn delivery(self) -> Delivery {
        match self {
            Ended::Status(s) if is_success(s) => Delivery::Sent,
            Ended::NoReply | Ended::TooLarge | Ended::Status(502 | 504) => Delivery::MayHaveArrived,
            Ended::Unsent | Ended::Status(_) => Delivery::Unsent,
        }
    }
}

impl Delivery {
    /// The call's delivery once one more attempt ended with `attempt`: an
    /// earlier attempt that may have arrived is not undone by a later
    /// refusal (the first may have been acted on, the second then refused
    /// as a duplicate).
    pub(crate) fn and(self, attempt: Ended) -> Delivery {
        self.max(attempt.delivery())
    }
}

/// A reply whose status came but whose body then broke off or was over the
/// cap: whether it still counts as that status. Only when the call needs
/// nothing but its status (`status_suffices`: the task update) and the
/// status is a 2xx: Secrets Manager recorded the update, and rolling back
/// then would delete credentials it holds. Otherwise the attempt failed (a
/// broken body is no reply, retried; one over the cap is not).
pub(crate) fn status_without_body(status: u16, status_suffices: bool) -> bool {
    status_suffices && is_success(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_ending_classified() {
        for (e, d) in [
            (Ended::Unsent, Delivery::Unsent),
            (Ended::Status(400), Delivery::Unsent),
            (Ended::Status(404), Delivery::Unsent),
            (Ended::Status(409), Delivery::Unsent),
            (Ended::Status(429), Delivery::Unsent),
            (Ended::Status(500), Delivery::Unsent),
            (Ended::Status(503), Delivery::Unsent),
            (Ended::Status(302), Delivery::Unsent),
            (Ended::NoReply, Delivery::MayHaveArrived),
            (Ended::TooLarge, Delivery::MayHaveArrived),
            (Ended::Status(502), Delivery::MayHaveArrived),
            (Ended::Status(504), Delivery::MayHaveArrived),
            (Ended::Status(200), Delivery::Sent),
            (Ended::Status(204), Delivery::Sent),
        ] {
            assert_eq!(e.delivery(), d, "{e:?}");
        }
    }

    #[test]
    fn a_call_is_as_delivered_as_its_furthest_attempt() {
        let call = |attempts: &[Ended]| attempts.iter().fold(Delivery::Unsent, |d, e| d.and(*e));
        assert_eq!(call(&[Ended::Unsent, Ended::Status(503)]), Delivery::Unsent);
        // Reply lost, then a 409: the first may have been acted on.
        assert_eq!(call(&[Ended::NoReply, Ended::Status(409)]), Delivery::MayHaveArrived);
        assert_eq!(call(&[Ended::Status(502), Ended::Unsent]), Delivery::MayHaveArrived);
        assert_eq!(call(&[Ended::NoReply, Ended::Status(201)]), Delivery::Sent);
    }

    #[test]
    fn a_2xx_with_a_broken_body_counts_only_where_the_status_suffices() {
        assert!(status_without_body(200, true));
        assert!(status_without_body(204, true));
        assert!(!status_without_body(200, false));
        assert!(!status_without_body(500, true));
        assert!(!status_without_body(302, true));
    }
}
