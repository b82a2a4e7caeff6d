//! What each interaction is for the definitions: part of a conversation, a customer contact,
//! one that needs a response, or a business response (docs/metrics.md, "Responses").

use crate::model::{CallStatus, Channel, Direction, Kind};

/// Inbound or outbound and not a platform/system record: the rows episodes are built from.
pub fn is_conversation(direction: Direction, kind: Kind) -> bool {
    matches!(direction, Direction::Inbound | Direction::Outbound) && !matches!(kind, Kind::System | Kind::Contact)
}

/// A call outcome in which the two sides spoke (voicemail: the caller left a message for the
/// other side, which reaches them; it counts as spoken for outbound calls only).
fn connected(status: Option<CallStatus>) -> bool {
    matches!(status, Some(CallStatus::Answered))
}

/// A business response: an outbound message or email, an outbound call that connected or left
/// a voicemail, or an inbound call an agent answered. Auto-replies are `system` and never count.
pub fn is_response(direction: Direction, kind: Kind, status: Option<CallStatus>) -> bool {
    match (direction, kind) {
        (_, Kind::System | Kind::Contact) => false,
        (Direction::Outbound, Kind::Call) => {
            matches!(status, Some(CallStatus::Answered | CallStatus::Voicemail) | None)
        }
        (Direction::Outbound, _) => true,
        (Direction::Inbound, Kind::Call) => connected(status),
        _ => false,
    }
}

/// An inbound contact that asks for a response: every inbound message, media or email, and an
/// inbound call that did not connect (missed, voicemail, busy, failed). An answered inbound call
/// is its own response; an inbound call without a recorded outcome is neither.
pub fn needs_response(direction: Direction, kind: Kind, status: Option<CallStatus>) -> bool {
    match (direction, kind) {
        (Direction::Inbound, Kind::Call) => status.is_some() && !connected(status),
        (Direction::Inbound, Kind::System | Kind::Contact) => false,
        (Direction::Inbound, _) => true,
        _ => false,
    }
}

/// Bit of a channel in a channel set (`u16` masks).
pub fn channel_bit(c: Channel) -> u16 {
    1 << (c as u16)
}

/// Every channel, in display order.
pub const CHANNELS: [Channel; 8] = [
    Channel::Whatsapp,
    Channel::Email,
    Channel::Call,
    Channel::Sms,
    Channel::Telegram,
    Channel::Instagram,
    Channel::Messenger,
    Channel::Contact,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_auto_reply_is_not_a_response_and_an_answered_call_is_one() {
        assert!(!is_response(Direction::System, Kind::Message, None));
        assert!(!is_response(Direction::Outbound, Kind::System, None));
        assert!(is_response(Direction::Inbound, Kind::Call, Some(CallStatus::Answered)));
        assert!(!is_response(Direction::Inbound, Kind::Call, Some(CallStatus::Missed)));
        assert!(is_response(
            Direction::Outbound,
            Kind::Call,
            Some(CallStatus::Voicemail)
        ));
        assert!(!is_response(Direction::Outbound, Kind::Call, Some(CallStatus::Busy)));
        assert!(needs_response(Direction::Inbound, Kind::Call, Some(CallStatus::Busy)));
        assert!(!needs_response(
            Direction::Inbound,
            Kind::Call,
            Some(CallStatus::Answered)
        ));
        assert!(!needs_response(Direction::Inbound, Kind::Call, None));
        assert!(needs_response(Direction::Inbound, Kind::Media, None));
        assert!(!needs_response(Direction::Unknown, Kind::Message, None));
    }
}
